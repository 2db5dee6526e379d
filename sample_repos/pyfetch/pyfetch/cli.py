"""Command line interface: ``pyfetch GET https://example.com/api``."""

import argparse
import json
import sys

from .auth import BasicAuth, BearerToken
from .client import Client
from .config import load_settings
from .errors import PyFetchError


def parse_header_args(values):
    """Turn repeated ``-H 'Name: value'`` options into a dict."""
    headers = {}
    for item in values or []:
        name, sep, value = item.partition(":")
        if not sep:
            raise argparse.ArgumentTypeError(f"bad header {item!r}, expected 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def build_parser():
    parser = argparse.ArgumentParser(prog="pyfetch", description="Send one HTTP request.")
    parser.add_argument("method", choices=["GET", "HEAD", "POST", "PUT", "DELETE"], type=str.upper)
    parser.add_argument("url")
    parser.add_argument("-H", "--header", action="append", dest="headers", default=[])
    parser.add_argument("-d", "--data", help="request body; prefix with @ to read a file")
    parser.add_argument("--json", action="store_true", help="send --data as JSON")
    parser.add_argument("-u", "--user", help="basic auth credentials as user:password")
    parser.add_argument("--token", help="bearer token")
    parser.add_argument("--config", help="path to a TOML settings file")
    parser.add_argument("--no-retry", action="store_true")
    parser.add_argument("-i", "--include", action="store_true", help="print response headers")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    settings = load_settings(args.config)
    if args.no_retry:
        settings.max_attempts = 1
    auth = None
    if args.user:
        user, _, password = args.user.partition(":")
        auth = BasicAuth(user, password)
    elif args.token:
        auth = BearerToken(args.token)
    body = args.data
    if body and body.startswith("@"):
        with open(body[1:], "rb") as fh:
            body = fh.read()
    try:
        with Client.from_settings(settings, auth=auth) as client:
            if args.method == "POST" and args.json:
                response = client.post(args.url, json_body=json.loads(body or "null"),
                                       headers=parse_header_args(args.headers))
            else:
                payload = body.encode("utf-8") if isinstance(body, str) else body
                response = client.send(args.method, args.url, headers=parse_header_args(args.headers),
                                       body=payload)
    except PyFetchError as exc:
        print(f"pyfetch: {exc}", file=sys.stderr)
        return 1
    if args.include:
        print(f"HTTP {response.status} {response.reason}")
        for name, value in response.headers.items():
            print(f"{name}: {value}")
        print()
    sys.stdout.write(response.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
