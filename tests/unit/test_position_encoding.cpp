// Fourier features and coordinate grids against the spec's worked example
// (docs/spec/position_encodings.md §3.1) and the torch.linspace rules.
#include <doctest/doctest.h>

#include <cmath>

#include "core/position_encoding.h"

using namespace perceiver;

TEST_CASE("linspace hits both ends exactly and is symmetric") {
  const auto v = linspace(1.f, 112.f, 64);
  REQUIRE(v.size() == 64);
  CHECK(v.front() == 1.f);
  CHECK(v.back() == 112.f);
  CHECK(v[1] == doctest::Approx(1.0 + 111.0 / 63));
  CHECK(linspace(-1.f, 1.f, 5) == std::vector<float>{-1.f, -0.5f, 0.f, 0.5f, 1.f});
  CHECK(linspace(3.f, 3.f, 1) == std::vector<float>{3.f});
}

TEST_CASE("grid positions are row-major (y, x) over linspace(-1, 1, n)") {
  const Tensor g = grid_positions({3, 4});
  REQUIRE(g.shape() == Shape{12, 2});
  const float* p = g.data<float>();
  CHECK(p[5 * 2 + 0] == doctest::Approx(0.0));         // element 5 = row 1
  CHECK(p[5 * 2 + 1] == doctest::Approx(-1.0 / 3.0));  // column 1
  CHECK(p[11 * 2 + 0] == 1.f);
  CHECK(p[11 * 2 + 1] == 1.f);
}

TEST_CASE("Fourier features: the spec's worked example, order [pos, sin…, cos…]") {
  const Tensor f = fourier_features(grid_positions({3, 4}), {224, 224}, 4);
  REQUIRE(f.shape() == Shape{12, 18});
  const double element5[18] = {0, -1.0 / 3, 0, 0, 0, 0, -0.866025, -0.866025, 0, 0.866025,
                               1, 1, 1, 1, 0.5, -0.5, -1, -0.5};
  const double element11[18] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, -1, 1, -1, 1, -1, 1, -1, 1};
  for (int c = 0; c < 18; ++c) {
    CAPTURE(c);
    CHECK(std::fabs(f.data<float>()[5 * 18 + c] - element5[c]) < 1e-4);
    CHECK(std::fabs(f.data<float>()[11 * 18 + c] - element11[c]) < 1e-4);
  }
}

TEST_CASE("subsampled positions use -1 + 2i/n, not linspace") {
  const Tensor p = subsampled_positions({0, 5, 127}, {2, 8, 8});
  REQUIRE(p.shape() == Shape{3, 3});
  const float* v = p.data<float>();
  CHECK(v[0] == -1.f);
  CHECK(v[3 + 1] == -1.f);                         // 5 = (0, 0, 5)
  CHECK(v[3 + 2] == doctest::Approx(-1 + 10.0 / 8));
  CHECK(v[6 + 0] == doctest::Approx(0.0));          // 127 = (1, 7, 7): -1 + 2/2
  CHECK(v[6 + 2] == doctest::Approx(1 - 2.0 / 8));  // the last sits at 1 - 2/n
}
