"""test_console_map_outlines.py — the map draws the directory's county
outlines: two counties' boundaries (one with a hole) are imported from
GeoJSON, published (format version 2, --force), and the map page shows one
dashed outline per county, the one with the hole as a path of two rings,
with the county's name as its tooltip."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lib_console import Mesh, Fail, browser, check_js, js_errors, login, shot, wait_for, run  # noqa: E402

GEOJSON = '''{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "central"},
  "geometry": {"type": "Polygon", "coordinates": [
   [[121.40, 31.20], [121.50, 31.20], [121.50, 31.26], [121.40, 31.26], [121.40, 31.20]],
   [[121.44, 31.22], [121.46, 31.22], [121.46, 31.24], [121.44, 31.24], [121.44, 31.22]]]}},
 {"type": "Feature", "properties": {"name": "riverside"},
  "geometry": {"type": "Polygon", "coordinates": [
   [[121.50, 31.26], [121.60, 31.26], [121.60, 31.32], [121.50, 31.32], [121.50, 31.26]]]}}]}'''


def outlines(drv):
    return drv.execute_script(
        "return Array.from(document.querySelectorAll('#map path.leaflet-interactive'))"
        ".filter(p => p.getAttribute('stroke-dasharray') === '6 4')"
        ".map(p => (p.getAttribute('d').match(/M/g) || []).length)")


def main():
    mesh = Mesh(['centre'])
    drv = None
    try:
        gj = os.path.join(mesh.tmp, 'two.geojson')
        out = os.path.join(mesh.tmp, 'dir.yaml')
        with open(gj, 'w', encoding='utf-8') as f:
            f.write(GEOJSON)
        mesh.run_fm(None, 'directory', 'import-geojson', gj, '--base', mesh.directory, '--out', out)
        mesh.run_fm(1, 'directory', 'publish', out, '--force')
        mesh.add_operator(1, 'disp', 'dispatcher', 'disp-pass-1')
        mesh.start(1)
        drv = browser()
        login(drv, mesh.url(1), 'disp', 'disp-pass-1')
        drv.get(drv.current_url.split('#')[0] + '#/map')
        wait_for('two county outlines on the map', lambda: len(outlines(drv)) == 2, 60)
        rings = sorted(outlines(drv))
        if rings != [1, 2]:
            raise Fail('outline rings per county: %s, expected [1, 2]' % rings)
        shot(drv, 'map-outlines')
        check_js([drv])
        mesh.failed = False
    finally:
        if drv is not None:
            for e in js_errors(drv):
                print('browser error: %s' % e)
            drv.quit()
        mesh.close()


if __name__ == '__main__':
    run(main)
