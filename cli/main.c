/*
 * main.c — the `fieldmesh` program: everything lives in cli_main() so the
 * command line can also be driven in-process.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
