/* commands.h: one entry point per `vaec` command; argv[0] is the command's own name. */
#ifndef VAEC_CLI_COMMANDS_H
#define VAEC_CLI_COMMANDS_H

int cmd_ckpt(int argc, char **argv);   /* cli/cmd_ckpt.c */
int cmd_ckpt_export(int argc, char **argv);   /* cli/cmd_ckpt_export.c: `vaec ckpt export` */
int cmd_data_bench(int argc, char **argv);   /* cli/cmd_data_bench.c: `vaec data bench` */
int cmd_data_encode(int argc, char **argv);  /* cli/cmd_data_encode.c: `vaec data encode` */
int cmd_encode(int argc, char **argv);        /* cli/cmd_codec.c */
int cmd_decode(int argc, char **argv);        /* cli/cmd_codec.c */
int cmd_reconstruct(int argc, char **argv);   /* cli/cmd_codec.c */
int cmd_train(int argc, char **argv);         /* cli/cmd_train.c */
int cmd_data(int argc, char **argv);          /* cli/cmd_data.c */

#endif
