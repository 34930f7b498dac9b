# `cmake --install BUILD --prefix P` (docs/install.md): the tools in P/bin (RUNPATH
# $ORIGIN/../lib…, so the prefix may be moved), libperceiver (+ libperceiver-training for
# perceiver-train) in P/lib…, the one public header P/include/perceiver/perceiver.h, perceiver.pc
# and a CMake package, the shipped models in P/share/perceiver/models/, man pages generated
# from the tools' --help, and bash completion.
include(CMakePackageConfigHelpers)

set(PERCEIVER_TOOLS perceiver-mlm perceiver-classify perceiver-flow perceiver-autoencode perceiver-run perceiver-convert perceiver-train)

install(TARGETS perceiver EXPORT perceiverTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS perceiver-training LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS ${PERCEIVER_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/perceiver/perceiver.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/perceiver)

# The CMake package: perceiver::perceiver.
set(package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/perceiver)
install(EXPORT perceiverTargets NAMESPACE perceiver:: FILE perceiverTargets.cmake DESTINATION ${package_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/perceiverConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cmake/perceiverConfig.cmake INSTALL_DESTINATION ${package_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/perceiverConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/perceiverConfig.cmake ${PROJECT_BINARY_DIR}/cmake/perceiverConfigVersion.cmake
        DESTINATION ${package_dir})

# pkg-config: the prefix found from the .pc file's own folder, so a moved prefix still works.
file(RELATIVE_PATH PC_PREFIX_FROM_PCFILEDIR "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" PC_PREFIX_FROM_PCFILEDIR "${PC_PREFIX_FROM_PCFILEDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/perceiver.pc.in ${PROJECT_BINARY_DIR}/perceiver.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/perceiver.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The shipped models: every folder of models/ that holds a config.json.
file(GLOB model_configs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/models/*/config.json)
foreach(config ${model_configs})
  get_filename_component(model_dir ${config} DIRECTORY)
  install(DIRECTORY ${model_dir} DESTINATION ${CMAKE_INSTALL_DATADIR}/perceiver/models)
endforeach()

# Man pages from each tool's --help, made after the tool is built.
set(man_pages)
foreach(tool ${PERCEIVER_TOOLS})
  set(subcommands "")
  if(tool STREQUAL "perceiver-train")
    set(subcommands "mlm;classify;eval;widen;plot")
  endif()
  set(page ${PROJECT_BINARY_DIR}/man/${tool}.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${tool}> -DNAME=${tool} "-DSUBCOMMANDS=${subcommands}"
            -DVERSION=${PROJECT_VERSION} -DOUTPUT=${page} -P ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
    DEPENDS ${tool} ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake VERBATIM)
  list(APPEND man_pages ${page})
  install(FILES ${PROJECT_SOURCE_DIR}/scripts/completion.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ${tool})
endforeach()
add_custom_target(perceiver-man-pages ALL DEPENDS ${man_pages})
install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
