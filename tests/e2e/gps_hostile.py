#!/usr/bin/env python3
"""gps_hostile.py PORT LAT LON SECONDS — a hostile "gpsd" for test_gps.sh
(not a test itself): listens on 127.0.0.1:PORT, and to each client sends
garbage lines, JSON nested far too deep, a 1 MiB line, 1 MiB of bytes
without a newline, and then one good TPV fix at LAT,LON per second until
SECONDS have passed."""
import socket
import sys
import time

port, lat, lon, secs = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
srv.settimeout(60)
conn, _ = srv.accept()
conn.settimeout(30)
end = time.time() + secs
try:
    conn.sendall(b'{"class":"VERSION","release":"evil","proto_major":3}\n')
    conn.sendall(b'\x00\xff\xfe not json at all\n{"class":"TPV","lat":"x"}\n{"class":"TPV"\n')
    conn.sendall(b'{"x":' + b'[' * 100000 + b']' * 100000 + b'}\n')
    conn.sendall(b'{"class":"TPV","junk":"' + b'A' * (1 << 20) + b'"}\n')
    conn.sendall(b'B' * (1 << 20))
    conn.sendall(b'\n')
    while time.time() < end:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        conn.sendall(('{"class":"TPV","mode":3,"time":"%s","lat":%.7f,"lon":%.7f,"eph":8.0}\n'
                      % (ts, lat, lon)).encode())
        time.sleep(1)
except (BrokenPipeError, ConnectionResetError, socket.timeout):
    pass
conn.close()
srv.close()
