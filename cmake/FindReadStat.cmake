# Finds ReadStat (Debian's libreadstat-dev ships no pkg-config or CMake file) and defines the
# imported target ReadStat::readstat.
find_library(ReadStat_LIBRARY readstat)
find_path(ReadStat_INCLUDE_DIR readstat.h)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ReadStat REQUIRED_VARS ReadStat_LIBRARY ReadStat_INCLUDE_DIR)
if(ReadStat_FOUND AND NOT TARGET ReadStat::readstat)
  add_library(ReadStat::readstat UNKNOWN IMPORTED)
  set_target_properties(ReadStat::readstat PROPERTIES IMPORTED_LOCATION ${ReadStat_LIBRARY}
                        INTERFACE_INCLUDE_DIRECTORIES ${ReadStat_INCLUDE_DIR})
endif()
