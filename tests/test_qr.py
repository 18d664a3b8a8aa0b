"""QR codes must decode, with a real decoder, to exactly the join URL."""

from __future__ import annotations

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
