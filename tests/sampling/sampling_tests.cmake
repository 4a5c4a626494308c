# Sampling layer and the pure-text runtime pieces (stop strings, stop reasons).
hearth_add_test(sampling_test
                SOURCES sampling/rng_test.cc sampling/params_test.cc sampling/stages_test.cc
                        sampling/sampler_test.cc
                LIBS hearth_sampling)

hearth_add_test(stop_matcher_test SOURCES sampling/stop_matcher_test.cc
                LIBS hearth_runtime_text hearth_sampling)
