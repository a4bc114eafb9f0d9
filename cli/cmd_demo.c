/* cmd_demo.c: placeholder replaced below */
#include "cli/commands.h"
int cmd_demo(int argc, char **argv) { return 1; }
