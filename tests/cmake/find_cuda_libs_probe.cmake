# find_cuda_libs_probe.cmake: runs cmake/find_cuda_libs.cmake under `cmake -P` for tests/cmake/test_find_cuda_libs.c.
#   cmake -DVAEC_SOURCE_DIR=<repo> -DVAEC_PYTHON_SITE=<dirs> [-DVAEC_CUDA_LIB_ROOTS=<dirs>] -DVAEC_CUDA_LIBS_NO_SYSTEM=ON -P this
# prints one line a library: "probe: CUDNN include=<dir> lib=<file>", then the same for NCCL.
include(${VAEC_SOURCE_DIR}/cmake/find_cuda_libs.cmake)
vaec_find_cuda_lib(CUDNN cudnn.h "libcudnn.so;libcudnn.so.9" cudnn)
vaec_find_cuda_lib(NCCL nccl.h "libnccl.so;libnccl.so.2" nccl)
message("probe: CUDNN include=${CUDNN_INCLUDE_DIR} lib=${CUDNN_LIB}")
message("probe: NCCL include=${NCCL_INCLUDE_DIR} lib=${NCCL_LIB}")
message("probe: looked in ${NCCL_SEARCHED}")
