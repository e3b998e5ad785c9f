"""load_settings: flags > environment > TOML file > defaults, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatgpt_browser.config import Settings, load_settings, secret_from_env
from chatgpt_browser.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_without_file(tmp_path: Path) -> None:
    settings = load_settings(config_file=None, environ={"CHATGPT_BROWSER_CONFIG": ""})
    assert settings.url == Settings().url
    assert settings.store == "file" and settings.headless is True


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.toml",
        'url = "http://127.0.0.1:1"\nemail = "file@example.com"\nmin_ttl = 60\n'
        'state_dir = "/tmp/from-file"\n[timeouts]\nlock = 12\nharvest = 99\n',
    )
    env = {"CHATGPT_BROWSER_URL": "http://127.0.0.1:2", "CHATGPT_BROWSER_MIN_TTL": "120"}
    settings = load_settings({"url": "http://127.0.0.1:3"}, config_file=cfg, environ=env)
    assert settings.url == "http://127.0.0.1:3"  # flag
    assert settings.min_ttl == 120.0  # env beats file
    assert settings.email == "file@example.com"  # file beats default
    assert settings.state_dir == Path("/tmp/from-file")
    assert settings.timeouts.lock == 12.0 and settings.timeouts.harvest == 99.0
    assert load_settings({"lock": 5}, config_file=cfg, environ=env).timeouts.lock == 5.0


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", 'email = "env-file@example.com"\n')
    settings = load_settings(environ={"CHATGPT_BROWSER_CONFIG": str(cfg)})
    assert settings.email == "env-file@example.com"


def test_password_only_from_environment(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", 'password_env = "MY_PW"\n')
    settings = load_settings(config_file=cfg, environ={"MY_PW": "hunter2"})
    assert settings.password_env == "MY_PW"
    assert settings.resolved_password({"MY_PW": "hunter2"}) == "hunter2"
    assert "hunter2" not in repr(settings)
    # read only when a login needs it: loading works without the variable
    unset = load_settings(config_file=cfg, environ={})
    with pytest.raises(ConfigError, match="MY_PW"):
        unset.resolved_password({})
    assert load_settings({"password": "direct"}, environ={}).resolved_password({}) == "direct"
    assert load_settings(environ={}).resolved_password({}) is None
    bad = write(tmp_path / "bad.toml", 'password = "plain"\n')
    with pytest.raises(ConfigError, match="password_env"):
        load_settings(config_file=bad, environ={})


def test_secret_from_env() -> None:
    assert secret_from_env("X", {"X": "v"}) == "v"
    with pytest.raises(ConfigError, match="X is not set"):
        secret_from_env("X", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense = 1\n", "unknown keys"),
        ('store = "s3"\n', "store must be"),
        ('headless = "maybe"\n', "headless"),
        ('min_ttl = "soon"\n', "number of seconds"),
        ('url = "ftp://x"\n', "http"),
        ("[timeouts]\nforever = 1\n", "timeouts"),
        ("url = \n", "cannot read"),
    ],
)
def test_bad_file_values(tmp_path: Path, text: str, message: str) -> None:
    cfg = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=cfg, environ={})


def test_missing_explicit_file_and_unknown_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"colour": "blue"}, config_file=None, environ={"CHATGPT_BROWSER_CONFIG": ""})


def test_env_booleans_and_store(tmp_path: Path) -> None:
    env = {
        "CHATGPT_BROWSER_HEADLESS": "false",
        "CHATGPT_BROWSER_STORE": "redis",
        "CHATGPT_BROWSER_REDIS_URL": "redis://127.0.0.1:1/0",
        "CHATGPT_BROWSER_STATE_DIR": str(tmp_path),
    }
    settings = load_settings(environ=env, config_file=write(tmp_path / "c.toml", ""))
    assert settings.headless is False and settings.store == "redis"
    assert settings.redis_url == "redis://127.0.0.1:1/0"
    assert settings.resolved_state_dir() == tmp_path


def test_toml_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes(b'email = "\xff"\n')
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_settings(config_file=config, environ={})


@pytest.mark.parametrize("min_ttl", [1800, 3600, -1])
def test_min_ttl_a_renewal_cannot_give_is_refused(tmp_path: Path, min_ttl: float) -> None:
    with pytest.raises(ConfigError, match="min_ttl"):
        load_settings({"min_ttl": min_ttl}, config_file=write(tmp_path / "c.toml", ""), environ={})


@pytest.mark.parametrize("proxy", ["not a url", "h:notaport", "ftp://h:21", "http://h:3128/path"])
def test_bad_proxies_are_refused_up_front(proxy: str) -> None:
    with pytest.raises(ConfigError, match="proxy") as caught:
        load_settings({"proxy": proxy}, environ={})
    assert "secret" not in str(caught.value)


def test_proxy_password_never_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"proxy": "http://user:secret@bad host:1"}, environ={})
    assert "secret" not in str(caught.value)


def test_missing_ca_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CA file"):
        load_settings({"ca_file": str(tmp_path / "none.pem")}, environ={})


def test_url_source_records_where_the_url_came_from(tmp_path: Path) -> None:
    toml = write(tmp_path / "c.toml", 'url = "http://127.0.0.1:1"\n')
    assert load_settings(environ={}, config_file=write(tmp_path / "e.toml", "")).url_source == "default"
    assert load_settings(config_file=toml, environ={}).url_source == "file"
    env = {"CHATGPT_BROWSER_URL": "http://127.0.0.1:2"}
    assert load_settings(config_file=toml, environ=env).url_source == "env"
    assert load_settings({"url": "http://127.0.0.1:3"}, config_file=toml, environ=env).url_source == "flag"


def test_environment_network_honours_no_proxy() -> None:
    from chatgpt_browser.config import environment_network

    env = {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "internal.example", "REQUESTS_CA_BUNDLE": "/ca.pem"}
    assert environment_network("https://chat.example.com", env) == ("http://p:3128", "/ca.pem")
    assert environment_network("https://x.internal.example", env) == (None, "/ca.pem")
    assert environment_network("http://a.example", {}) == (None, None)


def test_serve_tables_and_a_serve_url_store(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "c.toml",
        'store = "http://127.0.0.1:8191"\nemail = "a@example.com"\n'
        '[serve]\nport = 8191\n[[accounts]]\nemail = "b@example.com"\n',
    )
    settings = load_settings(config_file=cfg, environ={})
    assert settings.store == "http://127.0.0.1:8191" and settings.email == "a@example.com"
    with pytest.raises(ConfigError, match="store must be"):
        load_settings({"store": "ftp://x"}, config_file=None, environ={"CHATGPT_BROWSER_CONFIG": ""})
    with pytest.raises(ConfigError, match="unknown keys"):  # bookkeeping is not a setting
        load_settings(config_file=write(tmp_path / "d.toml", 'url_source = "flag"\n'), environ={})


def test_auth_hosts_from_file_env_and_flags(tmp_path: Path) -> None:
    default = load_settings(environ={})
    assert default.site().auth_hosts == ("auth0.openai.com",)
    cfg = write(tmp_path / "c.toml", 'auth_hosts = ["Login.Example.com", "127.0.0.2"]\n')
    from_file = load_settings(config_file=cfg, environ={})
    assert from_file.site().auth_hosts == ("login.example.com", "127.0.0.2")
    env = {"CHATGPT_BROWSER_AUTH_HOSTS": "a.example.com, b.example.com"}
    assert load_settings(config_file=cfg, environ=env).auth_hosts == ("a.example.com", "b.example.com")
    flags = load_settings({"auth_hosts": ["c.example.com"]}, config_file=cfg, environ=env)
    assert flags.site().auth_hosts == ("c.example.com",)  # replaces, never adds to, the default
    empty = write(tmp_path / "e.toml", "auth_hosts = []\n")  # only the site's own host
    assert load_settings(config_file=empty, environ={}).auth_hosts == ()


@pytest.mark.parametrize("host", ["https://login.example.com", "login.example.com:443", "a/b", "-x.com"])
def test_auth_hosts_take_bare_host_names_only(host: str) -> None:
    with pytest.raises(ConfigError, match="auth_hosts"):
        load_settings({"auth_hosts": [host]}, environ={})
    with pytest.raises(ConfigError, match="auth_hosts"):
        load_settings(environ={"CHATGPT_BROWSER_AUTH_HOSTS": host})
