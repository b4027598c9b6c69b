// Leaflet without tiles. The library comes from the node's Debian package
// (/vendor/leaflet/, libjs-leaflet); there is no tile server offline, so
// maps are a plain background with a coordinate grid, a scale and the
// county outlines the directory carries. loadLeaflet() resolves to null
// when the package is missing: callers then show a list instead.
import { el } from './dom.js';
import { get } from './api.js';

let loading = null;
const DEFAULT_CENTRE = [31.23, 121.47];

export function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!loading) {
    loading = new Promise((resolve) => {
      document.head.appendChild(el('link', { rel: 'stylesheet', href: '/vendor/leaflet/leaflet.css' }));
      const s = el('script', { src: '/vendor/leaflet/leaflet.js' });
      s.addEventListener('load', () => resolve(window.L || null));
      s.addEventListener('error', () => resolve(null));
      document.head.appendChild(s);
    });
  }
  return loading;
}

// The centre of a set of [lat, lon] points (their bounding box), or the
// example city when there are none.
export function centreOf(points) {
  const ok = points.filter((p) => p && isFinite(p[0]) && isFinite(p[1]));
  if (!ok.length) return DEFAULT_CENTRE;
  const lats = ok.map((p) => p[0]);
  const lons = ok.map((p) => p[1]);
  return [(Math.min(...lats) + Math.max(...lats)) / 2, (Math.min(...lons) + Math.max(...lons)) / 2];
}

export function plainMap(L, div, centre, zoom) {
  const map = L.map(div, { attributionControl: false }).setView(centre, zoom);
  L.control.scale({ metric: true, imperial: false, maxWidth: 150 }).addTo(map);
  const grid = L.layerGroup().addTo(map);
  const draw = () => drawGrid(L, map, grid);
  map.on('moveend', draw);
  draw();
  return map;
}

// A step of 1, 2 or 5 × 10^k degrees giving about six grid lines.
function niceStep(span) {
  const raw = span / 6;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : 5) * p;
}

function drawGrid(L, map, grid) {
  grid.clearLayers();
  const b = map.getBounds();
  const step = niceStep(Math.max(b.getEast() - b.getWest(), 1e-6));
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  const line = { color: '#b8c2cc', weight: 1, interactive: false };
  for (let lon = Math.ceil(b.getWest() / step) * step; lon <= b.getEast(); lon += step) {
    grid.addLayer(L.polyline([[b.getSouth(), lon], [b.getNorth(), lon]], line));
    grid.addLayer(gridLabel(L, [b.getNorth(), lon], lon.toFixed(digits) + '°E'));
  }
  for (let lat = Math.ceil(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
    grid.addLayer(L.polyline([[lat, b.getWest()], [lat, b.getEast()]], line));
    grid.addLayer(gridLabel(L, [lat, b.getWest()], lat.toFixed(digits) + '°N'));
  }
}

// An element, not an HTML string, even for a number: the pages never hand
// markup to the browser.
function gridLabel(L, at, text) {
  return L.marker(at, { interactive: false, keyboard: false,
    icon: L.divIcon({ className: 'grid-label', html: el('span', null, text), iconSize: null }) });
}

// County outlines from GET /api/directory/boundaries: each county's rings
// of [lat, lon] as one polygon, which Leaflet fills even-odd, so holes and
// separate parts draw right. No boundaries (or no directory): nothing drawn.
export function drawCounties(L, map) {
  const layer = L.layerGroup().addTo(map);
  get('/api/directory/boundaries').then((b) => {
    for (const c of (b && b.counties) || []) {
      const poly = L.polygon(c.rings, { color: '#5b6b7b', weight: 2, fillOpacity: 0.03, dashArray: '6 4' });
      poly.bindTooltip(el('span', null, c.name || ''), { sticky: true });
      layer.addLayer(poly);
    }
  }).catch(() => {}); // outlines are a backdrop: the map works without them
  return layer;
}
