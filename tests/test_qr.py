"""QR codes must decode, with a real decoder, to exactly the join URL."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from io import BytesIO

import PIL.Image
import pytest
import zxingcpp

from engagements.qr import qr_png, qr_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    "url",
    ["http://192.168.1.20:8080/join/QUIZ", "https://quiz.example.org/join/ABCD?lang=en&seat=12"],
)
def test_png_decodes_to_url(url: str) -> None:
    image = PIL.Image.open(BytesIO(qr_png(url)))

    assert [result.text for result in zxingcpp.read_barcodes(image)] == [url]


def test_png_box_size_scales_image() -> None:
    url = "http://10.0.0.2:8080/join/QUIZ"
    small = PIL.Image.open(BytesIO(qr_png(url, box_size=4)))
    large = PIL.Image.open(BytesIO(qr_png(url, box_size=8)))

    assert large.size == (small.size[0] * 2, small.size[1] * 2)


def test_svg_is_a_path_on_white() -> None:
    root = ET.fromstring(qr_svg("http://192.168.1.20:8080/join/QUIZ"))

    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}rect").get("fill") == "white"
    assert root.find(f"{SVG}path").get("d")


def test_rendering_is_cached() -> None:
    url = "http://192.168.1.20:8080/join/CACHE"

    assert qr_svg(url) is qr_svg(url)
    assert qr_png(url) is qr_png(url)


def raster(svg: bytes, scale: int = 8) -> PIL.Image.Image:
    """The SVG's one path of unit squares (`Mx,yH…V…H…z`), drawn black on white for the decoder."""
    root = ET.fromstring(svg)
    size = int(root.get("viewBox").split()[2])
    image = PIL.Image.new("L", (size * scale, size * scale), 255)
    for x, y in re.findall(r"M(\d+),(\d+)H", root.find(f"{SVG}path").get("d")):
        left, top = int(x) * scale, int(y) * scale
        image.paste(0, (left, top, left + scale, top + scale))
    return image


def test_the_cloud_makes_its_svg_code_without_pillow() -> None:
    """The Lambda package carries no Pillow: with PIL unimportable, the code the HTTP function serves
    (`cloud.routes` imports `qr_svg`) is made all the same and decodes to the join URL."""
    url = "https://play.example.org/j/ABCD"
    program = textwrap.dedent(
        f"""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "PIL":
                    raise ImportError(f"{{name}} is blocked: the Lambda package has no Pillow")
                return None

        sys.meta_path.insert(0, Block())
        import cloud.routes
        from engagements.qr import qr_svg
        sys.stdout.buffer.write(qr_svg({url!r}))
        assert not [m for m in sys.modules if m.split(".")[0] == "PIL"]
        """
    )
    made = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr.decode()
    assert [result.text for result in zxingcpp.read_barcodes(raster(made.stdout))] == [url]
