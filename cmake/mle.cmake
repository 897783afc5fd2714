# Helpers shared by every module's CMakeLists.txt.

# mle_add_library(NAME SOURCES... [DEPS ...] [PRIVATE_DEPS ...])
# A static library whose headers are included as "module/header.h" from src/.
function(mle_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()  # a module folder that has no code yet
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# mle_add_test(NAME SOURCES... [DEPS ...] [LABELS ...] [TIMEOUT s])
# One GoogleTest executable; each TEST becomes a CTest test. Tests run from the project root
# so that relative paths like ../shared/testdata resolve, and get MLE_SHARED_DIR/MLE_BIN.
function(mle_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()
  endif()
  foreach(dep ${ARG_DEPS})
    if(NOT TARGET ${dep})
      return()  # its library has no code yet
    endif()
  endforeach()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    MLE_SHARED_DIR="${MLE_SHARED_DIR}" MLE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    MLE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()
