#!/usr/bin/env python3
"""test_console_partition.py — a county console on its own. A ticket left
unacknowledged past its rule's time turns red on the county board and
raises the alert (banner, tab title count, tone). Then the centre's daemon
is stopped: the county console keeps working (an incident reported on its
intake page lands on its board) and its header says, in red, how long ago
it heard the centre, the age growing while the centre stays away.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_console import (Api, check_js, click, Fail, Mesh, browser, js_errors, log, login, run, shot,  # noqa: E402
                         wait_for)

ACK_AFTER_S = 8   # the test directory's ack time for traffic accidents


def by():
    from selenium.webdriver.common.by import By
    return By


def short_directory(tmp):
    """configs/directory.yaml with traffic accidents escalating after 8 s."""
    src = os.path.join(os.environ.get('FM_SRC', '.'), 'configs', 'directory.yaml')
    with open(src, encoding='utf-8') as f:
        text = f.read()
    rule = text.index('- category: traffic_accident')
    at = text.index('escalate_after_s:', rule)
    end = text.index('\n', at)
    text = text[:at] + 'escalate_after_s: %d' % ACK_AFTER_S + text[end:]
    path = os.path.join(tmp, 'directory.yaml')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return path


def main():
    mesh = Mesh(['centre', 'county'])
    mesh.directory = short_directory(mesh.tmp)
    drivers = []
    try:
        scenario(mesh, drivers)
        check_js(drivers)
        mesh.failed = False
    finally:
        for d in drivers:
            for e in js_errors(d):
                print('browser error: %s' % e)
            d.quit()
        mesh.close()


def scenario(mesh, drivers):
    mesh.publish_directory()
    mesh.add_operator(2, 'disp', 'dispatcher', 'disp-pass-2')
    mesh.add_operator(2, 'view', 'viewer', 'view-pass-2')
    for i in (1, 2):
        mesh.start(i)
    wait_for('the directory on node2', lambda: len(mesh.fm_json(2, 'unit', 'list')) > 10, 120)
    B = browser()
    drivers.append(B)
    login(B, mesh.url(2), 'disp', 'disp-pass-2', lang='en')
    wait_for('the centre heard', lambda: 'Centre last heard' in centre_status(B)['text'], 90)
    shot(B, 'header-centre-heard-en')
    late_ticket(mesh, B)
    centre_down(mesh, B)
    heal_with_conflict(mesh, B)
    viewer_and_lockout(mesh, B)
    without_libraries(mesh, B)


def late_ticket(mesh, B):
    api = Api(mesh.url(2), 'disp', 'disp-pass-2')
    inc = api.call('POST', '/api/incidents', {'category': 'traffic_accident', 'lat': 31.24, 'lon': 121.49,
                                              'address': 'Middle Ring Rd exit 4', 'priority': 2,
                                              'text': 'two cars, one person trapped'})['id']
    units = api.call('GET', '/api/units')['units']
    unit = [u['id'] for u in units if u['name'] == 'Traffic T1'][0]
    tk = api.call('POST', '/api/dispatch', {'incident': inc, 'units': [unit]})['tickets'][0]
    t0 = time.time()
    chip = 'tr.incident[data-id="%s"] .ticket[data-ticket="%s"]' % (inc, tk)
    wait_for('the ticket on the board', lambda: B.find_elements(by().CSS_SELECTOR, chip), 30)
    if B.find_elements(by().CSS_SELECTOR, chip + '.late-red'):
        raise Fail('the ticket is red before its ack time has passed')
    tones = B.execute_script('return fmConsole.alerts.tones')
    wait_for('the ticket turning red', lambda: B.find_elements(by().CSS_SELECTOR, chip + '.late-red'),
             ACK_AFTER_S + 60, every=0.2)
    log('red %.1f s after the dispatch (ack time %d s)' % (time.time() - t0, ACK_AFTER_S))
    if time.time() - t0 < ACK_AFTER_S - 1:
        raise Fail('red before the ack time passed')
    wait_for('the late banner', lambda: B.find_elements(by().CSS_SELECTOR, '#alert-banner [data-alert="late"]'), 10)
    if not re.match(r'^\(\d+\) ', B.title):
        raise Fail('no alert count in the tab title: %r' % B.title)
    if B.execute_script('return fmConsole.alerts.tones') <= tones:
        raise Fail('no alert tone for the late ticket')
    shot(B, 'board-late-ticket-en')


def centre_status(B):
    """The header's centre line, read in one go (it is redrawn every second)."""
    return B.execute_script("""
        const c = document.getElementById('centre-status');
        return c ? {cls: c.className, text: c.innerText, age: c.dataset.ageS || null} : {cls: '', text: '', age: null};""")


def centre_down(mesh, B):
    mesh.stop(1)
    log('centre stopped')
    stopped = time.time()
    base = B.current_url.split('#')[0]
    # the county keeps working: report on its own intake page, see it on its board
    inc = report_on_county(B, base)
    B.get(base + '#/board')
    wait_for('the incident on the county board', lambda: B.find_elements(
        by().CSS_SELECTOR, 'tr.incident[data-id="%s"]' % inc), 30)
    hdr = lambda: centre_status(B)  # noqa: E731
    wait_for('the header to say the centre is cut off', lambda: 'cut' in hdr()['cls'], 240, every=1)
    log('header red %.0f s after the centre stopped: %r' % (time.time() - stopped, hdr()['text']))
    if 'CUT OFF FROM CENTRE' not in hdr()['text'] or 'ago' not in hdr()['text']:
        raise Fail('the header does not say how long since the centre was heard: %r' % hdr()['text'])
    first = int(hdr()['age'] or -1)
    wait_for('the age to grow', lambda: int(hdr()['age'] or -1) > first + 2, 30)
    shot(B, 'board-centre-cut-off-en')
    B.get(base + '#/network')
    wait_for('network page', lambda: B.find_elements(by().CSS_SELECTOR, '#net-centre.cut'), 30)
    time.sleep(1)
    shot(B, 'network-centre-cut-off-en')
    click(B, '#lang-btn')
    wait_for('the Chinese header', lambda: '与指挥中心失联' in hdr()['text'], 10)
    time.sleep(1)
    shot(B, 'network-centre-cut-off-zh')
    click(B, '#lang-btn')


def report_on_county(B, base):
    from selenium.webdriver.support.ui import Select
    B.get(base + '#/intake')
    wait_for('intake', lambda: B.find_elements(by().ID, 'in-category'), 30)
    wait_for('categories', lambda: len(Select(B.find_element(by().ID, 'in-category')).options) > 3, 30)
    Select(B.find_element(by().ID, 'in-category')).select_by_value('gas_leak')
    B.find_element(by().ID, 'in-lat').send_keys('31.2201')
    B.find_element(by().ID, 'in-lon').send_keys('121.4602')
    B.find_element(by().ID, 'in-address').send_keys('Hillside Rd 12, cut off from the centre')
    B.find_element(by().ID, 'in-submit').click()
    try:
        card = wait_for('the saved incident', lambda: B.find_elements(by().ID, 'intake-saved'), 60)[0]
    except Fail:
        shot(B, 'intake-county-failed-en')
        raise Fail('the county could not report while cut off: %r' % B.find_element(by().ID, 'main').text[-400:])
    log('reported %s on the county while the centre is down' % card.get_attribute('data-id'))
    return card.get_attribute('data-id')


def heal_with_conflict(mesh, B):
    """While apart, both sides send Engine H1 (the county from its console,
    the centre from its CLI); after the heal the county's header is green
    again and the board shows the double booking as a conflict banner."""
    api = Api(mesh.url(2), 'disp', 'disp-pass-2')
    units = api.call('GET', '/api/units')['units']
    unit = [u['id'] for u in units if u['name'] == 'Engine H1'][0]
    mine = api.call('GET', '/api/incidents?state=open')['incidents'][0]['id']
    api.call('POST', '/api/dispatch', {'incident': mine, 'units': [unit]})
    theirs = mesh.run_fm(1, 'incident', 'report', '--category', 'building_fire', '--lat', '31.155',
                         '--lon', '121.405', '--address', 'Hillside school').strip()
    mesh.run_fm(1, 'dispatch', theirs, '--unit', unit)
    mesh.start(1)
    log('centre restarted')
    hdr = lambda: centre_status(B)  # noqa: E731
    base = B.current_url.split('#')[0]
    B.get(base + '#/board')
    wait_for('the header green again', lambda: 'ok' in hdr()['cls'].split(), 120, every=1)
    wait_for('the conflict banner', lambda: B.find_elements(
        by().CSS_SELECTOR, '#board-notices .notice[data-kind="conflict"]'), 120, every=1)
    wait_for('both of the engine\'s tickets marked', lambda: len(B.find_elements(
        by().CSS_SELECTOR, '.ticket .double-msg')) == 2, 30)
    wait_for('the conflict banner naming the unit', lambda: 'Engine H1' in B.find_element(by().ID, 'board-notices').text, 30)
    wait_for('the Resolve button on the conflict', lambda: B.find_elements(
        by().CSS_SELECTOR, '#board-notices .notice[data-kind="conflict"] button'), 30)
    time.sleep(1)
    shot(B, 'board-conflict-after-heal-en')


def viewer_and_lockout(mesh, B):
    """A viewer sees the board but no button that would write; five wrong
    passwords lock a name and the form says for how long."""
    click(B, '#logout-btn')
    wait_for('the login form', lambda: B.find_element(by().ID, 'login-name').is_displayed(), 30)
    login(B, mesh.url(2), 'view', 'view-pass-2', lang='en')
    base = B.current_url.split('#')[0]
    B.get(base + '#/board')
    wait_for('the board for the viewer', lambda: B.find_elements(by().CSS_SELECTOR, 'tr.incident'), 30)
    if B.find_elements(by().CSS_SELECTOR, '.dispatch-btn'):
        raise Fail('a viewer is offered Dispatch')
    B.get(base + '#/intake')
    wait_for('the intake page', lambda: B.find_elements(by().ID, 'in-submit'), 30)
    if B.find_element(by().ID, 'in-submit').is_enabled() or 'needs a call-taker' not in B.find_element(by().ID, 'intake-form').text:
        raise Fail('a viewer may submit the intake form')
    shot(B, 'intake-viewer-en')
    click(B, '#logout-btn')
    for n in range(6):
        wait_for('the login form', lambda: B.find_element(by().ID, 'login-name').is_displayed(), 30)
        for fid, val in (('login-name', 'view'), ('login-password', 'wrong-%d' % n)):
            e = B.find_element(by().ID, fid)
            e.clear()
            e.send_keys(val)
        B.find_element(by().ID, 'login-submit').click()
        wait_for('an answer', lambda: B.find_element(by().ID, 'login-msg').text != '', 30)
        if n < 5:
            wait_for('the refusal', lambda: 'Wrong name or password' in B.find_element(by().ID, 'login-msg').text
                     or 'locked' in B.find_element(by().ID, 'login-msg').text, 30)
    msg = B.find_element(by().ID, 'login-msg').text
    if not re.search(r'locked, try again in \d+ s', msg):
        raise Fail('the sixth try does not say the name is locked and for how long: %r' % msg)
    shot(B, 'login-locked-en')


def without_libraries(mesh, B):
    """A node without Debian's libjs-leaflet and libjs-chart.js (the browser
    is made to fail those downloads): the map is a list, the report a table
    with a note, and nothing breaks."""
    B.execute_cdp_cmd('Network.enable', {})
    B.execute_cdp_cmd('Network.setBlockedURLs', {'urls': ['*/vendor/leaflet/*', '*/vendor/chart.js/*']})
    login(B, mesh.url(2), 'disp', 'disp-pass-2', lang='en')
    base = B.current_url.split('#')[0]
    B.get(base + '#/map')
    wait_for('the map as a list', lambda: 'not installed' in B.find_element(by().ID, 'map').text, 30)
    wait_for('the incidents listed', lambda: B.find_elements(by().CSS_SELECTOR, '#map-lists tr[data-id]'), 30)
    shot(B, 'map-without-leaflet-en')
    B.get(base + '#/reports')
    wait_for('the report without a chart', lambda: 'libjs-chart.js' in B.find_element(by().ID, 'report-out').text, 30)
    B.execute_cdp_cmd('Network.setBlockedURLs', {'urls': []})


if __name__ == '__main__':
    run(main)
