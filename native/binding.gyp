# The servellm N-API addon: one target per installed llama.cpp build (cpu, cuda, vulkan).
#
# Do not run node-gyp on this file directly: scripts/build-native.mjs first extracts the
# llama.cpp headers into include/, checks the ABI, and writes include/variants.gypi, which
# declares the node-addon-api include directory and one target per variant found in
# node_modules (servellm_cpu, servellm_cuda, servellm_vulkan). The code is compiled once into
# the static library servellm_core; each variant compiles only src/addon.cc (the module entry
# point) and links servellm_core with its own libllama / libggml names and an $ORIGIN-relative
# rpath to its bins directory.
{
  'includes': ['include/variants.gypi'],
  'targets': [
    {
      'target_name': 'servellm_core',
      'type': 'static_library',
      'sources': [
        'src/abort-guard.cc',
        'src/batch-validation.cc',
        'src/context.cc',
        'src/context-state.cc',
        'src/cpu-info.cc',
        'src/create-context-worker.cc',
        'src/decode-result.cc',
        'src/decode-worker.cc',
        'src/fused-decode.cc',
        'src/gguf-metadata.cc',
        'src/gguf-preflight.cc',
        'src/js-args.cc',
        'src/load-model-worker.cc',
        'src/logger.cc',
        'src/model.cc',
        'src/model-state.cc',
        'src/parallel-rows.cc',
        'src/runtime.cc',
        'src/sampler.cc',
        'src/sampling-spec.cc',
        'src/threadpool.cc',
        'src/top-k-select.cc',
        'src/top-p-cut.cc',
        'src/vector-math.cc',
      ],
    },
  ],
  'target_defaults': {
    'include_dirs': ['include', '<(napi_include_dir)'],
    'defines': [
      'NAPI_VERSION=8',
      'NAPI_CPP_EXCEPTIONS',
      'NODE_ADDON_API_DISABLE_DEPRECATED',
      'LLAMA_SHARED',
      'GGML_SHARED',
    ],
    'cflags': ['-fPIC'],
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17'],
    'cflags_cc': [
      '-std=c++17',
      '-fexceptions',
      '-frtti',
      '-fvisibility=hidden',
      # Lets the compiler if-convert and vectorize the sampler's loops (see vector-math.cc).
      '-fno-trapping-math',
      # No FMA contraction: the AVX2 and baseline kernels give bit-identical results.
      '-ffp-contract=off',
      '-Wall',
      '-Wextra',
      '-Wno-unused-parameter',
    ],
  },
}
