// The constants of the x86 exp polynomial: Exp8 (avx2_util.h) and Exp16
// (avx512_util.h) run the same operations with them on 8 and 16 lanes, so the
// two give the same bits (AttentionTest.Avx512GivesAvx2Bits).
#pragma once

namespace hearth::kernels::exp_poly {

constexpr float kFloor = -87.3f;      // inputs are clamped here
constexpr float kZeroBelow = -87.0f;  // results below this are flushed to 0
constexpr float kLog2e = 1.44269504f;
// ln 2 in two parts: r = x - n * kLn2Hi - n * kLn2Lo.
constexpr float kLn2Hi = 0.693145751953125f;
constexpr float kLn2Lo = 1.428606765330187e-06f;
// e^r's degree-6 Taylor coefficients, highest first, by Horner's rule.
constexpr int kTerms = 7;
constexpr float kTaylor[kTerms] = {1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f,
                                   0.5f,          1.0f,          1.0f};

}  // namespace hearth::kernels::exp_poly
