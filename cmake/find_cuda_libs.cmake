# find_cuda_libs.cmake: where cuDNN and NCCL are (headers and libraries), for CMakeLists.txt and for a test.
#
#   include(cmake/find_cuda_libs.cmake)
#   vaec_find_cuda_lib(CUDNN cudnn.h "libcudnn.so;libcudnn.so.9" cudnn)
#     -> CUDNN_INCLUDE_DIR, CUDNN_LIB (full paths, or empty) and CUDNN_SEARCHED (the folders looked in)
#
# A library is found by its unversioned name or by its versioned one: a machine whose cuDNN and NCCL come
# from pip wheels (nvidia-cudnn-cu13, nvidia-nccl-cu13) has only libcudnn.so.9 and libnccl.so.2, and the
# linker takes either by full path. The roots searched, first match wins:
#   1. -D<PREFIX>_ROOT, then the environment variable <PREFIX>_ROOT (CUDNN_ROOT, NCCL_ROOT);
#   2. VAEC_CUDA_LIB_ROOTS (a list), then the CUDA toolkit (CUDAToolkit_INCLUDE_DIRS / _LIBRARY_DIR) and
#      /usr/local/cuda, then CMAKE_PREFIX_PATH (variable and environment);
#   3. the pip wheel layout: <site-packages>/nvidia/<wheel>/{include,lib} for every site-packages folder in
#      VAEC_PYTHON_SITE (a list), or, when that is not set, in what python3 reports (sys.path, which holds
#      PYTHONPATH, and site.getsitepackages());
#   4. the system folders /usr and /usr/local (include, include/x86_64-linux-gnu, lib/x86_64-linux-gnu,
#      lib64, lib), unless VAEC_CUDA_LIBS_NO_SYSTEM is set (tests).
# A value the user gave (-DCUDNN_LIB=/path/libcudnn.so.9, -DCUDNN_INCLUDE_DIR=...) wins when it exists.
# Plain file checks, no find_library: the same code runs in a configure and under `cmake -P` (the test in
# tests/build/test_find_cuda_libs.c runs it against a folder of fake files).

# the site-packages folders to look in for nvidia/<wheel>
function(vaec_python_site_dirs out)
  if(DEFINED VAEC_PYTHON_SITE)
    set(${out} "${VAEC_PYTHON_SITE}" PARENT_SCOPE)
    return()
  endif()
  find_program(VAEC_PYTHON3 NAMES python3 python)
  set(dirs "")
  if(VAEC_PYTHON3)
    execute_process(
      COMMAND "${VAEC_PYTHON3}" -c "import sys, site; print(';'.join([p for p in sys.path if p] + site.getsitepackages()))"
      OUTPUT_VARIABLE dirs OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      set(dirs "")
    endif()
  endif()
  set(${out} "${dirs}" PARENT_SCOPE)
endfunction()

# appends root's usual header and library sub-folders to searched_inc / searched_lib
macro(vaec_cuda_lib_root r)
  list(APPEND searched_inc "${r}/include" "${r}/include/x86_64-linux-gnu")
  list(APPEND searched_lib "${r}/lib64" "${r}/lib" "${r}/lib/x86_64-linux-gnu")
  list(APPEND roots "${r}")
endmacro()

# vaec_find_cuda_lib(PREFIX HEADER LIBNAMES WHEEL): see the top of this file
function(vaec_find_cuda_lib prefix header libnames wheel)
  set(roots "")
  set(searched_inc "")
  set(searched_lib "")
  # 1. what the user named
  if(DEFINED ${prefix}_ROOT)
    vaec_cuda_lib_root("${${prefix}_ROOT}")
  endif()
  if(DEFINED ENV{${prefix}_ROOT})
    vaec_cuda_lib_root("$ENV{${prefix}_ROOT}")
  endif()
  # 2. extra roots, the CUDA toolkit, CMAKE_PREFIX_PATH
  foreach(r ${VAEC_CUDA_LIB_ROOTS})
    vaec_cuda_lib_root("${r}")
  endforeach()
  list(APPEND searched_inc ${CUDAToolkit_INCLUDE_DIRS})
  if(CUDAToolkit_LIBRARY_DIR)
    list(APPEND searched_lib "${CUDAToolkit_LIBRARY_DIR}")
    list(APPEND roots "${CUDAToolkit_LIBRARY_DIR}")
  endif()
  if(NOT VAEC_CUDA_LIBS_NO_SYSTEM)
    vaec_cuda_lib_root(/usr/local/cuda)
  endif()
  set(prefix_path ${CMAKE_PREFIX_PATH})
  if(DEFINED ENV{CMAKE_PREFIX_PATH})
    string(REPLACE ":" ";" env_prefix "$ENV{CMAKE_PREFIX_PATH}")
    list(APPEND prefix_path ${env_prefix})
  endif()
  foreach(r ${prefix_path})
    vaec_cuda_lib_root("${r}")
  endforeach()
  # 3. pip wheels: <site-packages>/nvidia/<wheel>/{include,lib}
  vaec_python_site_dirs(sites)
  foreach(s ${sites})
    if(IS_DIRECTORY "${s}/nvidia/${wheel}")
      vaec_cuda_lib_root("${s}/nvidia/${wheel}")
    endif()
  endforeach()
  # 4. the system
  if(NOT VAEC_CUDA_LIBS_NO_SYSTEM)
    vaec_cuda_lib_root(/usr)
    vaec_cuda_lib_root(/usr/local)
  endif()
  list(REMOVE_DUPLICATES roots)

  set(inc "")
  if(${prefix}_INCLUDE_DIR AND EXISTS "${${prefix}_INCLUDE_DIR}/${header}")
    set(inc "${${prefix}_INCLUDE_DIR}")
  else()
    foreach(d ${searched_inc})
      if(EXISTS "${d}/${header}")
        set(inc "${d}")
        break()
      endif()
    endforeach()
  endif()
  set(lib "")
  if(${prefix}_LIB AND EXISTS "${${prefix}_LIB}")
    set(lib "${${prefix}_LIB}")
  else()
    foreach(d ${searched_lib})   # every name in one folder before the next folder
      foreach(n ${libnames})
        if(EXISTS "${d}/${n}" AND NOT IS_DIRECTORY "${d}/${n}")
          set(lib "${d}/${n}")
          break()
        endif()
      endforeach()
      if(lib)
        break()
      endif()
    endforeach()
  endif()
  set(${prefix}_INCLUDE_DIR "${inc}" PARENT_SCOPE)
  set(${prefix}_LIB "${lib}" PARENT_SCOPE)
  list(JOIN roots ", " roots_text)
  set(${prefix}_SEARCHED "${roots_text}" PARENT_SCOPE)
endfunction()
