// A program that uses the installed libperceiver (docs/library.md): it loads a model folder and
// runs the task its architecture does.
//   perceiver-example MODEL 'The cat sat on[MASK:4] mat.'   masked LM: the text, filled
//   perceiver-example MODEL photo.jpg                         classifier: top-5 labels
//   perceiver-example MODEL frame1.png frame2.png             optical flow: size and mean flow
// Build it against an installed prefix P:
//   g++ -std=c++17 perceiver-example.cpp $(pkg-config --cflags --libs perceiver) -o perceiver-example
//   (PKG_CONFIG_PATH=P/lib/pkgconfig), or with CMake: find_package(perceiver) and link
//   perceiver::perceiver (examples/CMakeLists.txt).
#include <perceiver/perceiver.h>

#include <cmath>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: perceiver-example MODEL TEXT | IMAGE | FRAME1 FRAME2\n" << perceiver::build_info() << "\n";
    return 2;
  }
  try {
    perceiver::api::Settings settings;
    settings.threads = 1;
    const perceiver::api::Model model(argv[1], settings);
    const std::string& architecture = model.architecture();
    if (architecture == "PerceiverForMaskedLM") {
      std::cout << model.fill_masks(argv[2]) << "\n";
    } else if (architecture == "PerceiverForOpticalFlow") {
      if (argc < 4) throw perceiver::api::Error("usage", "optical flow needs two frames");
      const perceiver::api::Flow flow = model.flow(perceiver::api::load_image(argv[2]), perceiver::api::load_image(argv[3]));
      double u = 0, v = 0;
      for (size_t i = 0; i < flow.uv.size(); i += 2) u += flow.uv[i], v += flow.uv[i + 1];
      const double pixels = static_cast<double>(flow.width * flow.height);
      std::printf("%lldx%lld\tmean u %.6f\tmean v %.6f\n", static_cast<long long>(flow.width),
                  static_cast<long long>(flow.height), u / pixels, v / pixels);
    } else {
      for (const perceiver::api::Label& label : model.classify(perceiver::api::load_image(argv[2]), 5))
        std::printf("%s\t%.6g\n", label.name.c_str(), label.probability);
    }
  } catch (const perceiver::api::Error& e) {
    std::cerr << "perceiver-example: " << e.kind() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
