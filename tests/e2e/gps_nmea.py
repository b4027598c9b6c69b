#!/usr/bin/env python3
"""gps_nmea.py — writes the NMEA logs test_gps.sh replays through gpsfake
into a real gpsd (not a test itself).

  gps_nmea.py nofix_poor OUT START_MS
      20 s without a fix, then 20 s of fixes at HDOP 5 (gpsd's error
      estimate ~95 m) at the station (each phase long enough for a
      `status` poll to land in it on a loaded machine).
  gps_nmea.py drive OUT START_MS FACTS
      a fire engine in Jinhua: 6 s at its station, 30 s driving to the
      incident (one fix in the middle jumps 5 km north), 25 s on scene.
      FACTS gets "leave_ms arrive_ms": the fix times of the first fix
      farther than 150 m from the station and of the first fix within
      80 m of the incident.

One fix per second of fix time, as RMC + GGA (gpsfake -c 0.5 replays it
in real time); fix times start at START_MS so they are current.
"""
import math
import sys
import time

STATION = (29.0790, 119.6470)
INCIDENT = (29.0830, 119.6510)


def cs(body):
    c = 0
    for ch in body:
        c ^= ord(ch)
    return "$%s*%02X\r\n" % (body, c)


def dm(v, is_lat):
    d = int(abs(v))
    m = (abs(v) - d) * 60
    if is_lat:
        return "%02d%07.4f" % (d, m), "N" if v >= 0 else "S"
    return "%03d%07.4f" % (d, m), "E" if v >= 0 else "W"


def dist_m(a, b):
    r = 6371008.8
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def fix(ms, pos, fix_ok=True, hdop=0.9, knots=0.0, track=0.0):
    t = time.gmtime(ms / 1000)
    hms = time.strftime("%H%M%S", t) + ".%02d" % ((ms % 1000) // 10)
    date = time.strftime("%d%m%y", t)
    la, ns = dm(pos[0], True)
    lo, ew = dm(pos[1], False)
    rmc = "GPRMC,%s,%s,%s,%s,%s,%s,%.1f,%.1f,%s,,,%s" % (
        hms, "A" if fix_ok else "V", la, ns, lo, ew, knots, track, date, "A" if fix_ok else "N")
    gga = "GPGGA,%s,%s,%s,%s,%s,%d,%02d,%.1f,50.0,M,0.0,M,," % (
        hms, la, ns, lo, ew, 1 if fix_ok else 0, 8 if fix_ok else 0, hdop if fix_ok else 99.9)
    return cs(rmc) + cs(gga)


def main():
    kind, out, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lines = []
    if kind == "nofix_poor":
        for i in range(20):
            lines.append(fix(start + i * 1000, STATION, fix_ok=False))
        for i in range(20, 40):
            lines.append(fix(start + i * 1000, STATION, hdop=5.0))
    else:
        leave = arrive = 0
        pts = [STATION] * 6
        for k in range(1, 31):
            f = k / 30.0
            pts.append((STATION[0] + f * (INCIDENT[0] - STATION[0]),
                        STATION[1] + f * (INCIDENT[1] - STATION[1])))
        pts += [(INCIDENT[0] + 0.00002 * (i % 2), INCIDENT[1]) for i in range(25)]
        track = math.degrees(math.atan2((INCIDENT[1] - STATION[1]) * math.cos(math.radians(29.08)),
                                        INCIDENT[0] - STATION[0]))
        for i, p in enumerate(pts):
            ms = start + i * 1000
            moving = 6 <= i < 36
            if i == 20:  # a multipath jump, 5 km north
                lines.append(fix(ms, (p[0] + 0.045, p[1]), knots=38.0, track=track))
                continue
            if not leave and dist_m(p, STATION) > 150:
                leave = ms
            if not arrive and dist_m(p, INCIDENT) <= 80:
                arrive = ms
            lines.append(fix(ms, p, knots=38.0 if moving else 0.0, track=track if moving else 0.0))
        with open(sys.argv[4], "w") as f:
            f.write("%d %d\n" % (leave, arrive))
    with open(out, "w") as f:
        f.write("".join(lines))


main()
