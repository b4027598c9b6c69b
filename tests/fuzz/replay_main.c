/*
 * replay_main.c — runs a fuzz target's checked-in corpus as a plain
 * regression test (no libFuzzer needed): every regular file in the
 * directory given on the command line is read whole and passed to
 * LLVMFuzzerTestOneInput once. A crash or sanitizer report fails the test.
 * Exits 0 after printing how many inputs ran; 1 if the directory is missing,
 * unreadable or holds no input files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file; returns a malloc'd buffer (at least 1 byte) or NULL. */
static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 1;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    size_t ran = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        size_t len = 0;
        uint8_t *data = read_whole(path, &len);
        if (!data) {
            fprintf(stderr, "%s: cannot read\n", path);
            closedir(dir);
            return 1;
        }
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        ran++;
    }
    closedir(dir);
    if (ran == 0) {
        fprintf(stderr, "%s: no inputs\n", argv[1]);
        return 1;
    }
    printf("ran %zu inputs from %s\n", ran, argv[1]);
    return 0;
}
