"""HTML for the administrator pages; every dynamic value is escaped."""

from __future__ import annotations

from html import escape

_STYLE = "body{font-family:sans-serif;margin:2em} .banner{white-space:pre-wrap;border:1px solid #888;padding:1em}"


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)} | Pexip Infinity'
        f"</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def login(banner: str, csrf: str, next_url: str, message: str = "") -> str:
    banner_html = f'<div class="banner" id="logon-banner">{escape(banner)}</div>' if banner else ""
    error_html = f'<p class="errornote" id="login-error">{escape(message)}</p>' if message else ""
    return _page(
        "Log in",
        f"""<h1>Pexip Infinity Conferencing Platform</h1>{banner_html}{error_html}
<form method="post" action="/admin/login/" id="login-form">
<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<label>Username: <input type="text" name="username" autocomplete="username"></label>
<label>Password: <input type="password" name="password" autocomplete="current-password"></label>
<input type="submit" value="Log in"></form>""",
    )


def dashboard(username: str, links: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{escape(h)}">{escape(t)}</a></li>' for h, t in links)
    return _page(
        "Status",
        f"""<h1>Pexip Infinity Administrator</h1>
<p id="user">Logged in as {escape(username)}</p><ul>{items}</ul><a href="/admin/logout/">Log out</a>""",
    )


def table(title: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return _page(title, f'<h1>{escape(title)}</h1><table id="data">{body}</table>')


def message(title: str, text: str) -> str:
    return _page(title, f'<h1>{escape(title)}</h1><p id="message">{escape(text)}</p>')
