"""The --tls edge refuses a correct bundle from a client whose TLS stack is not a browser's.

Real clients on real sockets: requests (urllib3/OpenSSL), curl, curl_cffi's Chrome,
Safari and Firefox targets, against an emulator process with --tls (fingerprint bind).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable

import pytest
import requests
from curl_cffi import requests as curl_requests
from edge_helpers import CH_UA, TIMEOUT, UA, bundle_cookies, cookie_header, curl, solve, trace

from chatgpt_browser.emulator.fingerprint import CHROMIUM_JA4, binding_of
from chatgpt_browser.emulator.process import Emulator

pytestmark = pytest.mark.slow

Make = Callable[..., Emulator]


@pytest.fixture
def edge(make_emulator: Make) -> Emulator:
    return make_emulator(tls=True, pow_difficulty=4)


def _get_curl_cffi(emu: Emulator, path: str, target: str, cookies: dict[str, str]) -> curl_requests.Response:
    return curl_requests.get(
        emu.url + path,
        headers={"User-Agent": UA, "Cookie": cookie_header(cookies)},
        impersonate=target,  # type: ignore[arg-type]
        verify=emu.ca_file,
        timeout=TIMEOUT,
        default_headers=False,
    )


def test_stock_requests_with_the_right_cookie_ua_and_ip_gets_the_challenge(edge: Emulator) -> None:
    cookies = bundle_cookies(edge)
    answer = requests.get(
        edge.url + "/api/auth/session",
        headers={"User-Agent": UA, "Cookie": cookie_header(cookies)},
        verify=edge.ca_file,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 403
    assert answer.headers["cf-mitigated"] == "challenge" and "Just a moment..." in answer.text
    challenges = edge.admin.stats()["challenges"]
    assert challenges["clearance_rejections"] == {"tls_mismatch": 1}
    mismatch = challenges["tls_mismatches"][0]
    assert mismatch["earned_ja4"] == CHROMIUM_JA4
    assert mismatch["presented_ja4"].split("_")[1] == "85036bcba153"  # python-requests' cipher hash


def test_curl_gets_the_challenge(edge: Emulator) -> None:
    cookies = bundle_cookies(edge)
    status, body = curl(edge, "/api/auth/session", f"User-Agent: {UA}", f"Cookie: {cookie_header(cookies)}")
    assert status == 403 and "Just a moment..." in body
    assert edge.admin.stats()["challenges"]["clearance_rejections"] == {"tls_mismatch": 1}


@pytest.mark.parametrize("target", ["chrome120", "chrome"])
def test_chrome_impersonation_passes(edge: Emulator, target: str) -> None:
    response = _get_curl_cffi(edge, "/api/auth/session", target, bundle_cookies(edge))
    assert response.status_code == 200, response.text[:200]
    assert response.json()["user"]["email"] == edge.account.email


@pytest.mark.parametrize("target", ["safari184", "firefox144"])
def test_other_browser_families_are_refused(edge: Emulator, target: str) -> None:
    response = _get_curl_cffi(edge, "/api/auth/session", target, bundle_cookies(edge))
    assert response.status_code == 403 and response.headers["cf-mitigated"] == "challenge"
    presented = edge.admin.stats()["challenges"]["tls_mismatches"][0]["presented_ja4"]
    assert binding_of(presented) != binding_of(CHROMIUM_JA4)


def test_a_clearance_bound_to_another_client_follows_that_client(edge: Emulator) -> None:
    seen = trace(requests.get(edge.url + "/cdn-cgi/trace", verify=edge.ca_file, timeout=TIMEOUT).text)
    cookies = bundle_cookies(edge, ja4=seen["ja4"])
    headers = {"User-Agent": UA, "Cookie": cookie_header(cookies)}
    ok = requests.get(edge.url + "/api/auth/session", headers=headers, verify=edge.ca_file, timeout=TIMEOUT)
    assert ok.status_code == 200
    assert _get_curl_cffi(edge, "/api/auth/session", "chrome120", cookies).status_code == 403


def test_trace_echoes_what_the_edge_saw_without_a_clearance(edge: Emulator) -> None:
    response = _get_curl_cffi(edge, "/cdn-cgi/trace", "chrome120", {})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    fields = trace(response.text)
    assert fields["ip"] == "127.0.0.1" and fields["uag"] == UA
    assert fields["http"] == "http/1.1" and fields["tls"] == "TLSv1.3" and fields["visit_scheme"] == "https"
    assert binding_of(fields["ja4"]) == "13_h2_8daaf6152771" and fields["ja4"].startswith("t13i")
    recent = edge.admin.tls()["recent"]  # the admin client's own connections are there too
    assert [r["browser_like"] for r in recent if r["ja4"] == fields["ja4"]] == [True]


def test_plain_http_edge_has_no_fingerprint(make_emulator: Make) -> None:
    emu = make_emulator()
    fields = trace(requests.get(emu.url + "/cdn-cgi/trace", timeout=TIMEOUT).text)
    assert fields["ja4"] == "" and fields["tls"] == "off"
    assert emu.admin.stats()["tls"]["mode"] == "off"


def test_score_mode_fails_a_perfect_answer_over_a_library_fingerprint(make_emulator: Make) -> None:
    emu = make_emulator(tls=True, pow_difficulty=4, tls_fingerprint="score")
    with requests.Session() as http:
        http.trust_env = False  # REQUESTS_CA_BUNDLE would override Session.verify
        http.verify = str(emu.ca_file)
        assert solve(http, emu.url).status_code == 403
    failures = emu.admin.stats()["challenges"]["failures"]
    assert failures[-1]["reasons"] == ["tls_fingerprint"]
    with curl_requests.Session(impersonate="chrome120", verify=emu.ca_file) as chrome:
        cleared = solve(chrome, emu.url)
        assert cleared.status_code == 302
    # score does not bind: that clearance also works from requests.
    headers = {"User-Agent": UA, "Cookie": f"cf_clearance={cleared.cookies['cf_clearance']}"}
    ok = requests.get(emu.url + "/auth/login", headers=headers, verify=emu.ca_file, timeout=TIMEOUT)
    assert ok.status_code == 200


def test_a_clearance_earned_over_chrome_tls_is_refused_to_requests(edge: Emulator) -> None:
    with curl_requests.Session(impersonate="chrome120", verify=edge.ca_file) as chrome:
        answer = solve(chrome, edge.url)
        assert answer.status_code == 302
        headers = {"User-Agent": UA, "Cookie": f"cf_clearance={answer.cookies['cf_clearance']}"}
        assert chrome.get(edge.url + "/auth/login", headers=headers, timeout=TIMEOUT).status_code == 200
    refused = requests.get(edge.url + "/auth/login", headers=headers, verify=edge.ca_file, timeout=TIMEOUT)
    assert refused.status_code == 403
    mismatch = edge.admin.stats()["challenges"]["tls_mismatches"][-1]
    assert binding_of(mismatch["earned_ja4"]) == "13_h2_8daaf6152771"
    assert binding_of(mismatch["presented_ja4"]) == "13_h1_85036bcba153"


def _raw(emu: Emulator, payload: bytes, *, half_close: bool = True) -> bytes:
    port = int(emu.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(payload)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):  # a clean close ends this loop; a reset would raise
            received += chunk
        return received


def test_bad_input_is_dropped_without_harming_other_connections(edge: Emulator) -> None:
    cookies = bundle_cookies(edge)
    port = int(edge.url.rsplit(":", 1)[1])
    # A client that connects and never speaks, held open while everything else happens.
    silent = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    with curl_requests.Session(
        impersonate="chrome120", verify=edge.ca_file, default_headers=False, discard_cookies=True
    ) as chrome:
        headers = {"User-Agent": UA, "Cookie": cookie_header(cookies)}
        assert chrome.get(edge.url + "/api/auth/session", headers=headers, timeout=TIMEOUT).status_code == 200
        garbage = [os.urandom(512) for _ in range(5)]
        truncated = bytes.fromhex("16030102000100") + os.urandom(60)  # announces 512 bytes, sends 60
        threads = [threading.Thread(target=_raw, args=(edge, payload)) for payload in [*garbage, truncated]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 2)
        # The same keep-alive connection, and new ones, still work.
        assert chrome.get(edge.url + "/api/auth/session", headers=headers, timeout=TIMEOUT).status_code == 200
    assert _get_curl_cffi(edge, "/api/auth/session", "chrome120", cookies).status_code == 200
    assert edge.admin.tls()["dropped"] == {"bad_hello": 6}  # the silent one is still waiting
    silent.close()


def test_plain_http_to_the_tls_port_gets_a_clean_close(edge: Emulator) -> None:
    answer = _raw(edge, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", half_close=False)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"plain HTTP request was sent to HTTPS port" in answer
    assert edge.admin.tls()["dropped"] == {"plain_http": 1}


def test_client_hints_that_contradict_the_ua_are_refused(edge: Emulator) -> None:
    cookies = bundle_cookies(edge)

    def session_with(hints: str | None) -> int:
        headers = {"User-Agent": UA, "Cookie": cookie_header(cookies)}
        if hints is not None:
            headers["sec-ch-ua"] = hints
        response = curl_requests.get(
            edge.url + "/api/auth/session",
            headers=headers,
            impersonate="chrome120",
            verify=edge.ca_file,
            timeout=TIMEOUT,
            default_headers=False,
        )
        return int(response.status_code)

    assert session_with(CH_UA) == 200
    assert session_with(None) == 200
    assert session_with('"Chromium";v="119", "Not_A Brand";v="8"') == 403
    assert session_with('"Google Chrome";v="131", "Chromium";v="131"') == 403
    assert edge.admin.stats()["challenges"]["client_hint_mismatches"] == 2
    edge.admin.configure(client_hints_check=False)
    assert session_with('"Chromium";v="119"') == 200
