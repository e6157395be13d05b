# Sourced by scripts/test.sh (for its Release and Python builds) and
# scripts/quickstart.sh: compile through ccache when it is installed
# (scripts/setup.sh installs it), so that the Python package's build (pip
# install ., its own build directory) takes the Release build's objects
# instead of compiling the libraries a second time: same compiler, flags and
# sources. CCACHE_BASEDIR turns the two build directories' absolute paths into
# the same relative ones, and CC / CXX name the compiler alike in both builds
# (ccache hashes its name; the Release configure found c++ where pip's found
# g++). CMake reads the launcher from the environment when it first configures
# a build directory. ccache also hashes LC_CTYPE, which Python sets to C.UTF-8
# for pip's build when the locale is C (PEP 538), so it is set that way for
# both. The cache ($CCACHE_DIR, by default ~/.cache/ccache) starts empty on a
# clean machine; a second run finds everything in it.
if command -v ccache > /dev/null; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  export CMAKE_C_COMPILER_LAUNCHER="${CMAKE_C_COMPILER_LAUNCHER:-ccache}"
  export CMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}"
  export CC="${CC:-gcc}" CXX="${CXX:-g++}" LC_CTYPE="${LC_CTYPE:-C.UTF-8}"
fi
