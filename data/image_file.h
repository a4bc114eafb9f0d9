/* image_file.h: one still image (a frame of `vaec data make --frames`) as 8-bit RGB.
 *
 * image_load_rgb reads a PNG or a JPEG, told apart by their first bytes (not the file name):
 * grey, palette, 16-bit and alpha PNGs become 8-bit RGB (alpha over black); grey and CMYK JPEGs
 * become RGB. image_is_frame_name says which names a frame folder lists (.png, .jpg, .jpeg). */
#ifndef VAEC_DATA_IMAGE_FILE_H
#define VAEC_DATA_IMAGE_FILE_H
#include <stdbool.h>
#include <stdint.h>

/* (h, w, 3) packed RGB the caller frees; NULL + vaec_last_error() naming the file */
uint8_t *image_load_rgb(const char *path, int *w, int *h);
bool image_is_frame_name(const char *name);
bool image_jpeg_available(void);   /* false in a build without libjpeg */

#endif
