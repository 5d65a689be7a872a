"""Identity's typed state and the dependencies its routes share, written once as
``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sotay_kit.app import Resources, get_resources, get_settings
from sotay_kit.app import SourceAddress as SourceAddress  # re-exported for the routes
from sotay_kit.clock import Now as Now  # re-exported for the routes

from .crypto import DataCipher
from .settings import IdentitySettings


@dataclass(kw_only=True)
class IdentityState(Resources):
    settings: IdentitySettings
    cipher: DataCipher  # personal data at rest (ID numbers, TOTP secrets, signing keys)


State = Annotated[IdentityState, Depends(get_resources)]
Settings = Annotated[IdentitySettings, Depends(get_settings)]


async def get_cipher(state: State) -> DataCipher:
    return state.cipher


Cipher = Annotated[DataCipher, Depends(get_cipher)]
