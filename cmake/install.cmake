# `cmake --install BUILD --prefix P` installs the public headers, the static libraries of every
# module, the CLI and a package configuration, so that a C++ project can write
#   find_package(spiral REQUIRED)
#   target_link_libraries(app PRIVATE spiral::spiral)
include(CMakePackageConfigHelpers)

install(TARGETS spiral RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET spiral_mpi)
  install(TARGETS spiral_mpi LIBRARY DESTINATION ${CMAKE_INSTALL_BINDIR})   # loaded from beside spiral
endif()
install(TARGETS ${SPIRAL_MODULES} spiral_lib EXPORT spiralTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/spiral DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SPIRAL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/spiral)
install(EXPORT spiralTargets NAMESPACE spiral:: DESTINATION ${SPIRAL_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/spiral-config.cmake.in
                              ${CMAKE_BINARY_DIR}/spiral-config.cmake INSTALL_DESTINATION ${SPIRAL_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/spiral-config-version.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/spiral-config.cmake ${CMAKE_BINARY_DIR}/spiral-config-version.cmake
              ${CMAKE_SOURCE_DIR}/cmake/FindReadStat.cmake DESTINATION ${SPIRAL_CMAKE_DIR})
