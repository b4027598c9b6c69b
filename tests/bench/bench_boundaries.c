/*
 * bench_boundaries.c — what county boundaries at the directory's limits
 * cost: the county of a point (fm_directory_county_at, asked once per
 * incident shown or dispatch checked), and encoding, decoding, rendering
 * and parsing the whole directory (every read of the directory in force
 * decodes it). The directory is the example one with its three counties
 * given outlines of 19,980 points (one large ring and 20 islands each) and
 * two more counties of 20,000 points: 99,940 points, about the total limit.
 *
 * Prints medians of R runs (default 20); county_at per call over 10,000
 * random points in the outlines' box. usage: bench_boundaries [--runs R]
 * (FM_SRC: the source tree, for configs/directory.yaml)
 */
#include "tests/bench/limits.h"
#include "node/workflow/workflow_int.h"

#include <math.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* A ring of n points around (lat, lon), radius r degrees, wobbly. */
static void ring(struct fm_directory *d, uint16_t county, double lat, double lon, double r, int n)
{
    struct fm_dir_ring *x = &d->rings[d->nrings++];
    x->county = county;
    x->first = (uint32_t)d->npoints;
    x->npoints = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * i / n, rr = r * (1 + 0.05 * sin(37 * a));
        d->points[d->npoints].lat_e7 = (int32_t)lround((lat + rr * sin(a)) * 1e7);
        d->points[d->npoints].lon_e7 = (int32_t)lround((lon + rr * cos(a)) * 1e7);
        d->npoints++;
    }
}

int main(int argc, char **argv)
{
    int runs = argc > 2 && strcmp(argv[1], "--runs") == 0 ? atoi(argv[2]) : 20;
    const char *src = getenv("FM_SRC") ? getenv("FM_SRC") : ".";
    char path[4096], err[512];
    struct fm_directory *d = NULL, *back = malloc(sizeof *back);
    double *t = calloc((size_t)(runs > 0 ? runs : 1), sizeof *t);
    snprintf(path, sizeof path, "%s/configs/directory.yaml", src);
    if (runs < 1 || back == NULL || t == NULL ||
        fm_directory_load_yaml(path, &d, err, sizeof err) != FM_OK) {
        fprintf(stderr, "bench_boundaries: cannot load %s: %s\n", path, err);
        return 1;
    }
    for (uint16_t c = 0; c < 3; c++) {
        ring(d, c, 31.2 + 0.2 * c, 121.4, 0.09, 19600);
        for (int k = 0; k < 20; k++)
            ring(d, c, 30.5 + 0.1 * c, 120.0 + 0.02 * k, 0.005, k < 18 ? 20 : 10);
    }
    /* two more counties of 20,000 points in 5 rings each: the total */
    for (int k = 0; k < 2; k++) {
        snprintf(d->counties[d->ncounties], FM_NAME_MAX, "extra %d", k + 1);
        uint16_t c = (uint16_t)d->ncounties++;
        for (int j = 0; j < 5; j++)
            ring(d, c, 29.0 + 0.3 * k, 119.0 + 0.05 * j, 0.02, 4000);
    }
    if (fm_directory_boundaries_normalise(d, err, sizeof err) != FM_OK) {
        fprintf(stderr, "bench_boundaries: %s\n", err);
        return 1;
    }
    printf("directory: %zu counties, %zu units, %zu rings, %zu points\n", d->ncounties,
           d->nunits, d->nrings, d->npoints);

    struct fm_buf b;
    fm_buf_init(&b, (size_t)1 << 21);
    for (int r = 0; r < runs; r++) {
        double t0 = lim_now();
        if (directory_encode(d, &b) != FM_OK)
            return 1;
        t[r] = (lim_now() - t0) * 1000;
    }
    printf("encode (with its decode check): %.2f ms, %zu bytes (%zu chunks of 16,000; at most 64)\n",
           median(t, (size_t)runs), b.len, (b.len + 15999) / 16000);
    for (int r = 0; r < runs; r++) {
        double t0 = lim_now();
        if (directory_decode(back, b.data, b.len) != FM_OK)
            return 1;
        t[r] = (lim_now() - t0) * 1000;
    }
    printf("decode: %.2f ms\n", median(t, (size_t)runs));

    char *yaml = NULL;
    size_t ylen = 0;
    for (int r = 0; r < runs; r++) {
        struct fm_directory *y = NULL;
        free(yaml);
        double t0 = lim_now();
        if (fm_directory_render_yaml(d, NULL, &yaml, &ylen) != FM_OK ||
            fm_directory_parse_yaml("bench", yaml, ylen, &y, err, sizeof err) != FM_OK)
            return 1;
        t[r] = (lim_now() - t0) * 1000;
        fm_directory_free(&y);
    }
    printf("YAML render + parse: %.1f ms, %zu bytes\n", median(t, (size_t)runs), ylen);

    srand(7);
    enum { NPTS = 10000 };
    int32_t *lat = malloc(NPTS * sizeof *lat), *lon = malloc(NPTS * sizeof *lon);
    long hits = 0;
    for (int i = 0; i < NPTS; i++) {
        lat[i] = (int32_t)lround((28.95 + 2.75 * rand() / (double)RAND_MAX) * 1e7);
        lon[i] = (int32_t)lround((118.9 + 2.8 * rand() / (double)RAND_MAX) * 1e7);
    }
    for (int r = 0; r < runs; r++) {
        double t0 = lim_now();
        for (int i = 0; i < NPTS; i++)
            hits += fm_directory_county_at(d, lat[i], lon[i]) >= 0;
        t[r] = (lim_now() - t0) * 1e6 / NPTS;
    }
    printf("county_at: %.1f us a point over %zu points (%.0f%% of points in a county)\n",
           median(t, (size_t)runs), d->npoints, 100.0 * (double)hits / ((double)NPTS * runs));
    printf("limits: BLAKE2b %.0f MB/s (4 KiB messages)\n", lim_blake2b_rate(4096, 0.2) * 4096 / 1e6);
    free(lat), free(lon), free(yaml), free(t), free(back);
    fm_buf_release(&b);
    fm_directory_free(&d);
    return 0;
}
