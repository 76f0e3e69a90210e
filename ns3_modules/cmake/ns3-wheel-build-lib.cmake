# A stand-in for ns-3's build_lib and build_lib_example (build-support/custom-modules/
# ns3-module-macros.cmake in an ns-3 tree), for building the module against the installed ns3
# wheel. It reads the same arguments as ns-3's, so space-xnet/CMakeLists.txt stays the one list
# of sources, and builds what the harness loads:
#   lib<name without '-'>.so        the module (libspacexnet.so)
#   lib<name without '-'>-test.so   its TEST_SOURCES, run by ns-3's TestRunner
#   include/ns3/<header>.h          the HEADER_FILES, copied, so "ns3/<header>.h" resolves as in
#                                   an ns-3 build; and include/ns3/<name>-module.h including them all
#   <example name>                  each build_lib_example of examples/, when SPACEXNET_EXAMPLES is on
# Needs NS3_PREFIX (the wheel's folder, holding include/ and lib64/) and NS3_VERSION (e.g. 3.44).

option(SPACEXNET_EXAMPLES "Build the module's examples/ (build_lib_example)" ON)

set(NS3_LIBDIR ${NS3_PREFIX}/lib64)
set(SPACEXNET_HEADER_DIR ${CMAKE_BINARY_DIR}/include)

# ${lib<module>} names an ns-3 module's library, as in an ns-3 build: here the wheel's.
file(GLOB _ns3_wheel_libraries ${NS3_LIBDIR}/libns${NS3_VERSION}-*.so)
foreach(_path ${_ns3_wheel_libraries})
  string(REGEX REPLACE "^.*/libns${NS3_VERSION}-(.*)\\.so$" "\\1" _module "${_path}")
  if(NOT TARGET ns3-wheel::${_module})
    add_library(ns3-wheel::${_module} SHARED IMPORTED)
    set_target_properties(ns3-wheel::${_module} PROPERTIES
      IMPORTED_LOCATION ${_path}
      INTERFACE_INCLUDE_DIRECTORIES ${NS3_PREFIX}/include)
  endif()
  set(lib${_module} ns3-wheel::${_module})
endforeach()
if(NOT libcore)
  message(FATAL_ERROR "no libns${NS3_VERSION}-core.so in ${NS3_LIBDIR}: is the ns3 wheel ${NS3_VERSION} installed?")
endif()

find_package(Threads REQUIRED)

# The ns-3 libraries a LIBRARIES_TO_LINK list names; an empty entry is a module the wheel lacks.
function(_spacexnet_check_libraries what)
  foreach(library ${ARGN})
    if(NOT TARGET ${library})
      message(FATAL_ERROR "${what}: '${library}' is not an ns-3 module of the wheel at ${NS3_PREFIX}")
    endif()
  endforeach()
endfunction()

function(build_lib)
  cmake_parse_arguments(BLIB "IGNORE_PCH;GENERATE_EXPORT_HEADER" "LIBNAME"
                        "SOURCE_FILES;HEADER_FILES;LIBRARIES_TO_LINK;TEST_SOURCES" ${ARGN})
  _spacexnet_check_libraries(${BLIB_LIBNAME} ${BLIB_LIBRARIES_TO_LINK})
  string(REPLACE "-" "" output_name "${BLIB_LIBNAME}")

  # Stage the public headers where "ns3/<header>.h" finds them (an ns-3 build's build/include/ns3),
  # and write the module header from the same list, as ns-3's write_module_header does.
  string(TOUPPER "NS3_MODULE_${BLIB_LIBNAME}" guard)
  string(REPLACE "-" "_" guard "${guard}")
  set(module_header "// Generated from ${BLIB_LIBNAME}'s HEADER_FILES: every public header of the module.\n")
  string(APPEND module_header "#ifndef ${guard}\n#define ${guard}\n")
  foreach(header ${BLIB_HEADER_FILES})
    get_filename_component(name ${header} NAME)
    configure_file(${header} ${SPACEXNET_HEADER_DIR}/ns3/${name} COPYONLY)
    string(APPEND module_header "#include \"ns3/${name}\"\n")
  endforeach()
  string(APPEND module_header "#endif\n")
  file(WRITE ${SPACEXNET_HEADER_DIR}/ns3/${BLIB_LIBNAME}-module.h "${module_header}")

  add_library(${BLIB_LIBNAME} SHARED ${BLIB_SOURCE_FILES})
  set_target_properties(${BLIB_LIBNAME} PROPERTIES OUTPUT_NAME ${output_name}
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
    BUILD_RPATH ${NS3_LIBDIR} INSTALL_RPATH ${NS3_LIBDIR})
  target_include_directories(${BLIB_LIBNAME} PUBLIC ${SPACEXNET_HEADER_DIR})
  target_link_libraries(${BLIB_LIBNAME} PUBLIC ${BLIB_LIBRARIES_TO_LINK} Threads::Threads)

  # The TestSuite is a library of its own, as in ns-3 (there linked into test-runner).
  if(BLIB_TEST_SOURCES)
    add_library(${BLIB_LIBNAME}-test SHARED ${BLIB_TEST_SOURCES})
    set_target_properties(${BLIB_LIBNAME}-test PROPERTIES OUTPUT_NAME ${output_name}-test
      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
      BUILD_RPATH "${NS3_LIBDIR};$ORIGIN")
    target_link_libraries(${BLIB_LIBNAME}-test PUBLIC ${BLIB_LIBNAME})
  endif()

  # ns-3 adds examples/ when examples are enabled; BLIB_LIBNAME stays visible there.
  if(SPACEXNET_EXAMPLES AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/examples/CMakeLists.txt)
    add_subdirectory(examples)
  endif()
endfunction()

function(build_lib_example)
  cmake_parse_arguments(BLIB_EXAMPLE "IGNORE_PCH" "NAME" "SOURCE_FILES;HEADER_FILES;LIBRARIES_TO_LINK" ${ARGN})
  _spacexnet_check_libraries(${BLIB_EXAMPLE_NAME} ${BLIB_EXAMPLE_LIBRARIES_TO_LINK})
  add_executable(${BLIB_EXAMPLE_NAME} ${BLIB_EXAMPLE_SOURCE_FILES})
  set_target_properties(${BLIB_EXAMPLE_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
    BUILD_RPATH "${NS3_LIBDIR};$ORIGIN")
  target_link_libraries(${BLIB_EXAMPLE_NAME} PRIVATE ${BLIB_LIBNAME} ${BLIB_EXAMPLE_LIBRARIES_TO_LINK})
endfunction()
