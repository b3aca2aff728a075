#!/usr/bin/env python3
"""Regenerate internal/jpegdec/testdata: JPEGs made from real photographs and
the pixels PIL decodes from them, which the Go decoder must reproduce.

The photos are the public-domain/CC0 samples shipped in scikit-image's wheel
(see internal/jpegdec/testdata/README.md). Nothing here runs in CI; the
outputs are committed. To regenerate, on a machine with network access to PyPI:

    python3 -m venv /tmp/jpegvenv && /tmp/jpegvenv/bin/pip install pillow
    /tmp/jpegvenv/bin/pip download scikit-image --no-deps -d /tmp/skimage
    (cd /tmp/skimage && unzip -o -q scikit_image-*.whl 'skimage/data/*')
    apt-get install libjpeg-turbo-progs libturbojpeg0   # cjpeg, jpegtran; TurboJPEG for YCCK
    /tmp/jpegvenv/bin/python scripts/make-jpeg-golden.py /tmp/skimage/skimage/data

Most JPEGs are encoded by PIL itself (subsampling=0/1/2 is 4:4:4/4:2:2/4:2:0);
PIL cannot write 4:4:0, 4:1:1 and a few other layouts, so those come from
libjpeg-turbo's jpegtran (a lossless transpose of a 4:2:2 file) and cjpeg, and
the YCCK file from the TurboJPEG library, called through ctypes. The encoder does not matter
for the test: every reference PNG is what PIL decodes, with
Image.open(path).convert("RGB") (or "L" for greyscale), as the official
GroupViT pipeline reads images. The Pillow and libjpeg-turbo versions used are
written to testdata/VERSIONS.
"""

import ctypes
import io
import os
import subprocess
import sys
import tempfile

from PIL import Image, features

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "internal", "jpegdec", "testdata")


def crop(photo, box):
    """Crop box (left, top, width, height) out of photo."""
    left, top, w, h = box
    return photo.crop((left, top, left + w, top + h))


def pil_jpeg(img, **opts):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **opts)
    return buf.getvalue()


def tool(args, data):
    """Run a libjpeg-turbo tool reading data on stdin."""
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def ppm(img):
    buf = io.BytesIO()
    img.save(buf, "PPM")
    return buf.getvalue()


def turbojpeg_ycck(img):
    """Encode a CMYK image as YCCK (Adobe transform 2), 4:2:0, quality 90:
    TurboJPEG turns CMYK pixels into YCCK, which neither PIL nor cjpeg can."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    tj.tjCompress2.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
        ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)), ctypes.POINTER(ctypes.c_ulong),
        ctypes.c_int, ctypes.c_int, ctypes.c_int]
    tj.tjDestroy.argtypes = [ctypes.c_void_p]
    tj.tjFree.argtypes = [ctypes.c_void_p]
    handle = tj.tjInitCompress()
    out, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    tjpf_cmyk, tjsamp_420 = 11, 2
    w, h = img.size
    if tj.tjCompress2(handle, img.tobytes(), w, 0, h, tjpf_cmyk, ctypes.byref(out), ctypes.byref(size), tjsamp_420, 90, 0):
        raise RuntimeError("tjCompress2 failed")
    data = bytes(out[: size.value])
    tj.tjFree(out)
    tj.tjDestroy(handle)
    return data


def main(src):
    photos = {
        name: Image.open(os.path.join(src, name)).convert("RGB")
        for name in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg")
    }
    gray = Image.open(os.path.join(src, "camera.png")).convert("L")
    astro, coffee, chelsea, rocket = (photos[n] for n in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"))

    # name -> JPEG bytes. Crops sit on strong colour edges (flag, suit,
    # cup rim, cat's eyes and collar, rocket and sky), where chroma
    # upsampling matters most. Odd sizes leave partial blocks and MCUs.
    files = {
        "astronaut-420-q75.jpg": pil_jpeg(crop(astro, (150, 60, 256, 192)), quality=75, subsampling=2),
        "astronaut-420-q95-rst.jpg": pil_jpeg(crop(astro, (0, 250, 251, 187)), quality=95, subsampling=2, restart_marker_blocks=7),
        "coffee-422-q75.jpg": pil_jpeg(crop(coffee, (200, 20, 256, 192)), quality=75, subsampling=1),
        "coffee-422-q95.jpg": pil_jpeg(crop(coffee, (60, 180, 251, 187)), quality=95, subsampling=1),
        "chelsea-444-q75.jpg": pil_jpeg(crop(chelsea, (100, 40, 256, 192)), quality=75, subsampling=0),
        "chelsea-444-q95.jpg": pil_jpeg(crop(chelsea, (180, 90, 251, 187)), quality=95, subsampling=0),
        "rocket-420-q85-progressive.jpg": pil_jpeg(crop(rocket, (250, 120, 251, 187)), quality=85, subsampling=2, progressive=True),
        "coffee-444-q90-progressive.jpg": pil_jpeg(crop(coffee, (300, 150, 97, 75)), quality=90, subsampling=0, progressive=True),
        "camera-gray-q90.jpg": pil_jpeg(crop(gray, (180, 60, 251, 187)), quality=90),
        # Rows of at most 2 chroma samples: libjpeg replicates, not filters.
        "astronaut-420-tiny.jpg": pil_jpeg(crop(astro, (250, 200, 4, 3)), quality=90, subsampling=2),
        "astronaut-422-small.jpg": pil_jpeg(crop(astro, (250, 200, 5, 9)), quality=90, subsampling=1),
        "chelsea-cmyk-q90.jpg": pil_jpeg(crop(chelsea, (120, 60, 64, 48)).convert("CMYK"), quality=90),
    }
    # 4:4:0: transposing a 4:2:2 JPEG swaps its sampling factors.
    files["coffee-440-q90.jpg"] = tool(
        ["jpegtran", "-transpose"], pil_jpeg(crop(coffee, (60, 180, 187, 251)), quality=90, subsampling=1))
    # 4:1:1 (chroma 1/4 wide): libjpeg replicates it.
    files["chelsea-411-q90.jpg"] = tool(
        ["cjpeg", "-quality", "90", "-sample", "4x1,1x1,1x1"], ppm(crop(chelsea, (150, 100, 123, 61))))
    # Layouts PIL does not write: one scan per component (sequential),
    # a hand-written progression with restart markers inside progressive
    # scans, RGB coded as such (Adobe transform 0), and quality 1, whose
    # 16-bit quantization tables push the IDCT to its extremes.
    with tempfile.TemporaryDirectory() as tmp:
        seq = os.path.join(tmp, "seq.txt")
        with open(seq, "w") as f:
            f.write("0;\n1;\n2;\n")
        prog = os.path.join(tmp, "prog.txt")
        with open(prog, "w") as f:
            f.write("0 1 2: 0 0 0 1;\n0: 1 5 0 2;\n2: 1 63 0 1;\n1: 1 63 0 1;\n0: 6 63 0 2;\n"
                    "0: 1 63 2 1;\n0 1 2: 0 0 1 0;\n2: 1 63 1 0;\n1: 1 63 1 0;\n0: 1 63 1 0;\n")
        small = ppm(crop(astro, (260, 120, 123, 91)))
        files["astronaut-420-noninterleaved.jpg"] = tool(
            ["cjpeg", "-quality", "85", "-sample", "2x2,1x1,1x1", "-scans", seq], small)
        files["astronaut-422-progressive-rst.jpg"] = tool(
            ["cjpeg", "-quality", "85", "-sample", "2x1,1x1,1x1", "-scans", prog, "-restart", "2B"], small)
        files["astronaut-rgb.jpg"] = tool(["cjpeg", "-quality", "85", "-rgb"], small)
        files["astronaut-420-q1.jpg"] = tool(["cjpeg", "-quality", "1", "-sample", "2x2,1x1,1x1"], small)
    files["chelsea-ycck-420-q90.jpg"] = turbojpeg_ycck(crop(chelsea, (120, 60, 61, 45)).convert("CMYK"))

    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(files.items()):
        path = os.path.join(OUT, name)
        with open(path, "wb") as f:
            f.write(data)
        img = Image.open(path)
        ref = img.convert("L" if img.mode == "L" else "RGB")
        ref.save(path[: -len(".jpg")] + ".png", optimize=True)
        print(f"{name}: {img.size[0]}x{img.size[1]} {img.mode}, {len(data)} bytes")

    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        f.write(f"Pillow {Image.__version__}\n")
        f.write(f"libjpeg-turbo {features.version('libjpeg_turbo')} (Pillow's, which decoded the PNGs)\n")
        ver = subprocess.run(["cjpeg", "-version"], stderr=subprocess.PIPE, check=True).stderr.decode().strip()
        f.write(f"cjpeg/jpegtran: {ver} (encoded the 440, 411, noninterleaved, progressive-rst, rgb and q1 files; its TurboJPEG the YCCK one)\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make-jpeg-golden.py SKIMAGE_DATA_DIR")
    main(sys.argv[1])
