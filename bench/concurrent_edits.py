"""Twenty people acting on one referral at once, through the real web server: no lost updates.

    .venv/bin/python -m bench.concurrent_edits [--users 20] [--seconds 60] [--workers 2]

Builds a small node (bench/out/concurrent/), records one red referral that every agency
researches, with two items from each agency, and starts `python -m node.web.serve`. Four MASH
managers keep re-rating the referral and sixteen professionals (four each from police, health,
education and children's social care) keep changing the release decisions on their agency's
items, each as a browser would: open the page, read the version it shows, send the form.

Every change names the version it was made from, and the server applies it only if that is still
the current one; so two accepted changes made from the same version of the same thing would be a
lost update (one replaced the other unseen). The run counts accepted changes, changes refused as
made meanwhile ("was changed by ... after you opened this page"), other refusals (such as rating
a referral with the rating it already has), and errors (any 5xx, any unexpected page, any failed
request), then checks that no version was used by two accepted changes and that the store holds
exactly the accepted changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import shutil
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bench.import_throughput import OUT, machine_lines
from bench.web_latency import SERVER_LOG, BenchUser, fetch, running_server, start_sessions
from node import users
from node.access import Actor
from node.agencies import sync_agencies
from node.auth.totp import enrol_totp_for_demo
from node.config import load_config, render_config
from node.referrals.intake import NewContact, PersonDetails, record_contact
from node.referrals.research import add_contribution
from node.referrals.triage import set_rag
from node.runtime import Node
from node.store.models import Pathway, Rag, RagChange, ReferralEvent, Role, utcnow

DIRECTORY = OUT / "concurrent"

AGENCIES = ("police", "health", "education", "childrens-social-care")
ITEMS_PER_AGENCY = 2
STALE = "after you opened this page"
_VERSION = re.compile(r'name="(?P<name>(?:rating|item-\d+)-version)"[^>]*value="(?P<value>\d+)"')
_CSRF = re.compile(r'name="(?:[a-z0-9-]*-)?csrf_token"[^>]*value="(?P<value>[^"]+)"')
_RAG = re.compile(r"<strong class=\"govuk-tag[^\"]*\">(Red|Amber|Green)</strong>")


@dataclass
class Tally:
    accepted: Counter[str] = field(default_factory=Counter)
    stale: int = 0
    other_refusals: int = 0
    errors: list[str] = field(default_factory=list)
    made_from: list[tuple[str, int]] = field(default_factory=list)  # (thing, version) accepted
    lock: threading.Lock = field(default_factory=threading.Lock)


def build(users_count: int) -> tuple[Node, int, list[BenchUser]]:
    if DIRECTORY.exists():
        shutil.rmtree(DIRECTORY)
    DIRECTORY.mkdir(parents=True)
    text = render_config("hackney", "Hackney", list(AGENCIES))
    text += '\n[web]\nhost = "127.0.0.1"\nport = 0\nsecure_cookies = false\n'
    (DIRECTORY / "node.toml").write_text(text, encoding="utf-8")
    managers = max(1, users_count // 5)
    wanted = [BenchUser(f"manager.{n}", None) for n in range(managers)]
    wanted += [
        BenchUser(
            f"{AGENCIES[n % len(AGENCIES)]}.{n // len(AGENCIES)}", AGENCIES[n % len(AGENCIES)]
        )
        for n in range(users_count - managers)
    ]
    admin = Actor("bench-admin", Role.NODE_ADMIN)
    with Node.initialise(DIRECTORY / "node.toml") as node, node.unit_of_work() as session:
        sync_agencies(session, node.config.agencies)
        for user in wanted:
            users.add_user(
                session,
                admin,
                username=user.username,
                display_name=user.username,
                role=Role.MASH_MANAGER if user.agency is None else Role.AGENCY_PROFESSIONAL,
                agency_code=user.agency,
                password="Concurrent-bench-pass-1",
            )
            enrol_totp_for_demo(session, node.keys, user.username)
        manager = Actor("manager.0", Role.MASH_MANAGER)
        referral = record_contact(
            session,
            manager,
            NewContact(
                pathway=Pathway.CHILD,
                source_kind="public",
                categories=("neglect",),
                account="Children left alone at night",
                people=(PersonDetails(surname="Concurrent", forenames="Alex"),),
                received_at=utcnow() - dt.timedelta(minutes=10),
            ),
            node.config.referrals,
        )
        set_rag(session, manager, referral.id, Rag.RED, "Young children", node.config.referrals)
        for agency in AGENCIES:
            professional = Actor(f"{agency}.0", Role.AGENCY_PROFESSIONAL, agency)
            for number in range(ITEMS_PER_AGENCY):
                add_contribution(
                    session,
                    professional,
                    referral.id,
                    title=f"{agency} note {number + 1}",
                    content="What the agency holds",
                )
        referral_id = referral.id
    return Node.open(DIRECTORY / "node.toml"), referral_id, wanted


def act(
    base_url: str, cookie: str, user: BenchUser, referral_id: int, until: float, tally: Tally
) -> None:
    rng = random.Random(user.username)
    path = f"/referrals/{referral_id}" if user.agency is None else f"/research/{referral_id}"
    while time.monotonic() < until:
        try:
            status, page, new_cookie = fetch(base_url, path, cookie)
            cookie = new_cookie or cookie
            if status != 200:
                raise RuntimeError(f"GET {path} gave {status}")
            versions = {m["name"]: int(m["value"]) for m in _VERSION.finditer(page)}
            csrf = _CSRF.search(page)
            if csrf is None or not versions:
                raise RuntimeError(f"GET {path}: no form with a version")
            if user.agency is None:
                shown = _RAG.search(page)
                current = shown.group(1).lower() if shown else "red"
                rag = rng.choice([r for r in ("red", "amber", "green") if r != current])
                thing, version = "referral", versions["rating-version"]
                action = f"/referrals/{referral_id}/rating"
                fields = {
                    "csrf_token": csrf["value"],
                    "rating-csrf_token": csrf["value"],
                    "rating-version": str(version),
                    "rating-rag": rag,
                    "rating-reason": f"Reviewed by {user.username}",
                }
            else:
                name = rng.choice(sorted(versions))
                prefix = name.removesuffix("-version")
                thing, version = prefix, versions[name]
                action = (
                    f"/research/{referral_id}/contributions/{prefix.removeprefix('item-')}/release"
                )
                fields = {
                    "csrf_token": csrf["value"],
                    f"{prefix}-csrf_token": csrf["value"],
                    name: str(version),
                    f"{prefix}-state": rng.choice(["held", "signposted"]),
                    f"{prefix}-reason": f"Decided by {user.username} {rng.random():.6f}",
                }
            status, page, new_cookie = fetch(
                base_url, action, cookie, urllib.parse.urlencode(fields)
            )
            cookie = new_cookie or cookie
            with tally.lock:
                if status == 302:
                    tally.accepted[thing] += 1
                    tally.made_from.append((thing, version))
                elif status == 200 and STALE in page:
                    tally.stale += 1
                elif status == 200 and "govuk-error-summary" in page:
                    tally.other_refusals += 1
                else:
                    tally.errors.append(f"POST {action} gave {status}")
        except Exception as exc:  # every failure is counted, none ends the run
            with tally.lock:
                tally.errors.append(f"{user.username}: {exc}")


def run(users_count: int, seconds: float, workers: int) -> int:
    print("\n".join(machine_lines()))
    print(
        f"Concurrent edits: {users_count} users on one referral for {seconds:.0f} s, "
        f"{workers} server workers"
    )
    node, referral_id, wanted = build(users_count)
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    config = load_config(DIRECTORY / "node.toml")
    cookies = start_sessions(config, wanted)
    tally = Tally()
    with running_server(DIRECTORY / "node.toml", workers) as server:
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=act,
                args=(server.base_url, cookies[user.username], user, referral_id, until, tally),
            )
            for user in wanted
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with node.reading() as session:
        ratings = session.scalar(
            select(func.count()).select_from(RagChange).where(RagChange.referral_id == referral_id)
        )
        releases = session.scalar(
            select(func.count())
            .select_from(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id, ReferralEvent.kind == "release")
        )
    node.close()
    used_twice = [pair for pair, n in Counter(tally.made_from).items() if n > 1]
    item_changes = sum(n for thing, n in tally.accepted.items() if thing != "referral")
    stored_ok = (ratings or 0) - 1 == tally.accepted["referral"] and releases == item_changes
    print(
        f"  accepted changes: {sum(tally.accepted.values())} "
        f"({tally.accepted['referral']} ratings, {item_changes} release decisions)"
    )
    print(f"  refused as changed meanwhile: {tally.stale}; other refusals: {tally.other_refusals}")
    print(f"  lost updates (two accepted changes made from one version): {len(used_twice)}")
    print(f"  store holds exactly the accepted changes: {'yes' if stored_ok else 'NO'}")
    print(f"  errors: {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"    {error}")
    return 0 if not used_twice and not tally.errors and stored_ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.concurrent_edits", description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    return run(args.users, args.seconds, args.workers)


if __name__ == "__main__":
    raise SystemExit(main())
