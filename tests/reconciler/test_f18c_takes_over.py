"""f18c: ``migrate.takes_over`` holds only for a Source object mirroring every setting of the config-file
source it can carry (verification mode and trusted keys, env, prune, renderer, values, release, namespace,
ServiceAccount identity...), whatever its name and credentials paths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from handoff.reconciler.config import Credentials, Source, Verification
from handoff.reconciler.migrate import takes_over

URL = "https://git.example/config.git"


def _pair(tmp_path: Path) -> tuple[Source, Source]:
    ops, secret = tmp_path / "ops", tmp_path / "secret"
    ops.mkdir()
    secret.mkdir()
    for d in (ops, secret):
        (d / "allowed_signers").write_text("ops@example.com ssh-ed25519 AAAAkey\n")
    config = Source(name="web", url=URL, path="app", namespace="team-a", service_account="deployer",
                    credentials=Credentials(token_file="/etc/handoff/token"),
                    verify=Verification(mode="ssh", allowed_signers=str(ops / "allowed_signers")))
    found = Source(name="team-a/web", url=URL, path="app", namespace="team-a",
                   service_account="team-a/deployer", secrets=("team-a/git", "team-a/verify"),
                   credentials=Credentials(token_file=str(secret / "token")),
                   verify=Verification(mode="ssh", allowed_signers=str(secret / "allowed_signers")))
    return config, found


def test_a_mirror_takes_over_whatever_its_name_credentials_and_key_paths(tmp_path: Path) -> None:
    config, found = _pair(tmp_path)
    assert takes_over(config, found)


@pytest.mark.parametrize("change", [
    {"verify": Verification()}, {"env": "prod"}, {"prune": False}, {"renderer": "helm"},
    {"values": ("prod.yaml",)}, {"release": "other"}, {"namespace": "team-b"}, {"self_heal": False},
    {"drift_mode": "warn"}, {"interval": 3600.0}, {"service_account": None},
    {"service_account": "team-a/admin"}, {"revision": "dev"}, {"path": "other"}],
    ids=lambda c: next(iter(c)))
def test_an_object_differing_in_a_setting_it_can_carry_takes_nothing_over(
        tmp_path: Path, change: dict[str, object]) -> None:
    config, found = _pair(tmp_path)
    assert not takes_over(config, replace(found, **change))  # type: ignore[arg-type]


def test_other_trusted_keys_or_unreadable_ones_take_nothing_over(tmp_path: Path) -> None:
    config, found = _pair(tmp_path)
    Path(str(found.verify.allowed_signers)).write_text("tenant@example.com ssh-ed25519 AAAAother\n")
    assert not takes_over(config, found)
    gone = replace(found, verify=Verification(mode="ssh", allowed_signers=str(tmp_path / "missing")))
    assert not takes_over(config, gone)


def test_gpg_keyrings_compare_as_their_files(tmp_path: Path) -> None:
    ops, secret = tmp_path / "ops-gpg", tmp_path / "secret-gpg"
    for d in (ops, secret):
        d.mkdir()
        (d / "pubring.kbx").write_bytes(b"keys")
    config = Source(name="web", url=URL, verify=Verification(mode="gpg", keyring=str(ops)))
    found = Source(name="ns/web", url=URL, verify=Verification(mode="gpg", keyring=str(secret)))
    assert takes_over(config, found)
    (secret / "extra.kbx").write_bytes(b"a tenant's key")
    assert not takes_over(config, found)
