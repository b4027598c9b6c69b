/*
 * cli.h — the `fieldmesh` command line as a library, so that main.c stays
 * one line and tests or benchmarks can run commands in-process.
 */
#ifndef FM_CLI_H
#define FM_CLI_H

/* Runs one `fieldmesh` invocation (argv[0] is the program name) and
 * returns its exit status: 0 ok, 1 operation failed, 2 usage error,
 * 3 signature/trust refusal, 74 I/O or store error, 78 configuration
 * error (docs/cli.md). Writes results to stdout and diagnostics to stderr.
 * Not reentrant: it uses process-wide state (the log level, stdio). */
int cli_main(int argc, char **argv);

#endif
