# cmake -P script: install BUILD_DIR into WORK_DIR/prefix, then configure, build and run a
# downstream consumer (SOURCE_DIR) with find_package(ggufkit) -- as a user would, with
# only the installed package: the README's library example (extracted verbatim from
# README_FILE), ggufkit/ headers only, Eigen unavailable.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()

# Only public headers are installed, all under include/ggufkit/, none mentions Eigen.
set(_inc ${WORK_DIR}/prefix/include)
file(GLOB _top RELATIVE ${_inc} ${_inc}/*)
if(NOT _top STREQUAL "ggufkit")
  message(FATAL_ERROR "installed include/ holds '${_top}', expected only ggufkit/")
endif()
foreach(internal codec_registry.h quant_search_internal.h extra_codec_util.h iq_tables_data.h
                 kernels.h ordered_pipeline.h group_codecs.h kernel_launch.h cli_args.h)
  file(GLOB_RECURSE _found ${_inc}/*/${internal})
  if(_found)
    message(FATAL_ERROR "internal header installed: ${_found}")
  endif()
endforeach()
file(GLOB_RECURSE _inl ${_inc}/*-inl.h)
if(_inl)
  message(FATAL_ERROR "Highway -inl.h headers installed: ${_inl}")
endif()
file(GLOB_RECURSE _headers ${_inc}/*.h)
foreach(h ${_headers})
  file(STRINGS ${h} _eigen REGEX "Eigen")
  if(_eigen)
    message(FATAL_ERROR "installed header ${h} mentions Eigen: consumers must not need it")
  endif()
endforeach()

# The README's library example: the first ```cpp block after "## Library".
file(READ ${README_FILE} _readme)
string(FIND "${_readme}" "## Library" _at)
if(_at LESS 0)
  message(FATAL_ERROR "README has no '## Library' section")
endif()
string(SUBSTRING "${_readme}" ${_at} -1 _readme)
string(FIND "${_readme}" "```cpp\n" _begin)
string(SUBSTRING "${_readme}" ${_begin} -1 _readme)
string(LENGTH "```cpp\n" _fence)
string(SUBSTRING "${_readme}" ${_fence} -1 _readme)
string(FIND "${_readme}" "```" _end)
string(SUBSTRING "${_readme}" 0 ${_end} _example)
file(WRITE ${WORK_DIR}/readme_example.cc "${_example}")

execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DREADME_EXAMPLE=${WORK_DIR}/readme_example.cc
  -DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer with find_package(ggufkit) failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer ${SAMPLE} blk.0.weight RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
