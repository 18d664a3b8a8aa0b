"""QR codes for the join URL, shown on the projector and printed on table cards.

A game's join URL never changes, so rendered codes are cached; the cache is
small because only a handful of games run on one appliance at a time.
"""

from __future__ import annotations

import functools
from io import BytesIO

import qrcode
import qrcode.constants
import qrcode.image.base
import qrcode.image.svg


def _render(data: str, image_factory: type[qrcode.image.base.BaseImage], box_size: int = 10) -> bytes:
    # Level M survives glare and a partly blocked projector screen without
    # making the code so dense that phones at the back of the room fail. The
    # 2-module border is half the spec's quiet zone, which scanners tolerate,
    # and the white fill supplies it even on a dark page.
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size,
        border=2,
        image_factory=image_factory,
    )
    code.add_data(data)
    code.make(fit=True)
    buffer = BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


@functools.lru_cache(maxsize=16)
def qr_svg(data: str) -> bytes:
    """Vector QR code: a single path stays crisp at any projector size."""
    return _render(data, qrcode.image.svg.SvgPathFillImage)


@functools.lru_cache(maxsize=16)
def qr_png(data: str, box_size: int = 10) -> bytes:
    """Raster QR code for consumers that cannot take SVG, such as printing and chat apps.

    Pillow is imported here, not with the module: the cloud's functions serve SVG only and their
    package need not carry Pillow's native code.
    """
    import qrcode.image.pil

    return _render(data, qrcode.image.pil.PilImage, box_size)
