/*
 * features-cmd.h - the subcommands of rp-features, one file each
 * (features-NAME.c).
 *
 * Each takes the subcommand's arguments with argv[0] = its name (so getopt
 * works as in a main()), prints its own usage, and returns the exit code:
 * 0 ok, 1 a check failed or the operation failed, 2 usage or invalid input.
 */
#ifndef RP_STAGES_FEATURES_H
#define RP_STAGES_FEATURES_H

int features_cmd_historical(int argc, char **argv);
int features_cmd_validate(int argc, char **argv);
int features_cmd_materialize(int argc, char **argv);
int features_cmd_get(int argc, char **argv);
int features_cmd_check_skew(int argc, char **argv);

#endif
