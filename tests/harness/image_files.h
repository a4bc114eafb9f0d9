/* image_files.h: image files for the data tests (frame folders for `vaec data make --frames`).
 *
 *   test_write_solid_png(path, w, h, rgb)   -> a w x h RGB PNG of one colour; a failed write is an EXPECT
 *                                              failure naming the path */
#ifndef VAEC_TESTS_IMAGE_FILES_H
#define VAEC_TESTS_IMAGE_FILES_H
#include <stdint.h>

void test_write_solid_png(const char *path, int w, int h, const uint8_t rgb[3]);

#endif
