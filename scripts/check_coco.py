#!/usr/bin/python3
"""An independent check of a COCO instances file against the masks it was made from.

Decodes every annotation with code that shares nothing with synthset: polygons rasterised by
OpenCV (cv2.fillPoly), compressed RLE decoded from pycocotools' string form (maskApi.c's rleFrString,
re-implemented below), then compares them with the class-index masks (8-connected components by
cv2.connectedComponents). Needs only Debian's python3-opencv and python3-numpy:

    /usr/bin/python3 scripts/check_coco.py <annotations.json> <masks dir> [--min-iou 0.5]

Prints a JSON summary; exits 1 when a structural check fails (ids, categories, bboxes, sizes,
RLE areas) or an instance's IoU is below --min-iou.
"""
import json
import os
import sys

import cv2
import numpy as np


def rle_from_string(s):
    """maskApi.c rleFrString: LEB128-like 5-bit groups, deltas from the count two back after the third."""
    counts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def decode_rle(counts, h, w):
    flat = np.zeros(h * w, dtype=np.uint8)
    at, val = 0, 0
    for c in counts:
        flat[at:at + c] = val
        at += c
        val ^= 1
    if at != h * w:
        raise ValueError(f"RLE covers {at} pixels, the image has {h * w}")
    return flat.reshape((w, h)).T  # column-major, as COCO


def png_palette(path):
    """The PLTE chunk of a palette PNG (OpenCV expands such files to colours), or None."""
    data = open(path, "rb").read()
    at = 8
    while at + 8 <= len(data):
        n = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        if kind == b"PLTE":
            return np.frombuffer(data[at + 8:at + 8 + n], dtype=np.uint8).reshape(-1, 3)
        if kind == b"IDAT":
            return None
        at += 12 + n
    return None


def read_mask(path):
    """Class indices of a mask PNG: grey values, or palette indices recovered from the colours."""
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if mask is None or mask.ndim == 2:
        return mask
    palette = png_palette(path)
    rgb = mask[:, :, 2::-1].astype(np.int32)
    if palette is None:
        if not ((rgb[:, :, 0] == rgb[:, :, 1]) & (rgb[:, :, 1] == rgb[:, :, 2])).all():
            raise ValueError(f"{path}: a colour mask without a palette")
        return rgb[:, :, 0].astype(np.uint8)
    key = (rgb[:, :, 0] << 16) | (rgb[:, :, 1] << 8) | rgb[:, :, 2]
    pk = (palette[:, 0].astype(np.int32) << 16) | (palette[:, 1].astype(np.int32) << 8) | palette[:, 2]
    lut = {}
    for i, k in enumerate(pk):
        lut.setdefault(int(k), i)  # the first index of a repeated colour, as a decoder would not know
    out = np.zeros(key.shape, dtype=np.uint8)
    for k in np.unique(key):
        out[key == k] = lut[int(k)]
    return out


def raster(seg, h, w):
    if isinstance(seg, dict):
        return decode_rle(rle_from_string(seg["counts"]), h, w), "rle"
    # Polygon vertices lie on pixel boundaries, and a pixel belongs to the object when its centre is
    # inside. fillPoly also paints every pixel an edge touches, so rasterise 4x finer and sample the
    # fine mask at the pixel centres: the edges are then a quarter pixel from any centre.
    m = np.zeros((h, w), dtype=np.uint8)
    pts = [np.array(p, dtype=np.float64).reshape(-1, 2) for p in seg]
    allp = np.concatenate(pts)
    x0, y0 = max(int(np.floor(allp[:, 0].min())), 0), max(int(np.floor(allp[:, 1].min())), 0)
    x1, y1 = min(int(np.ceil(allp[:, 0].max())), w), min(int(np.ceil(allp[:, 1].max())), h)
    if x1 <= x0 or y1 <= y0:
        return m, "polygon"
    s = 4
    fine = np.zeros(((y1 - y0) * s, (x1 - x0) * s), dtype=np.uint8)
    # fillPoly's coordinates are pixel centres (3 bits of sub-pixel shift): vertex v -> v*s - 0.5.
    polys = [np.round(((p - [x0, y0]) * s - 0.5) * 8).astype(np.int32) for p in pts]
    cv2.fillPoly(fine, polys, 1, lineType=cv2.LINE_8, shift=3)
    # Pixel x's centre is fine coordinate x*s + 1.5; fine pixel x*s + 2 is a quarter pixel from it.
    m[y0:y1, x0:x1] = fine[s // 2::s, s // 2::s]
    return m, "polygon"


def main():
    args = sys.argv[1:]
    min_iou = 0.5
    if "--min-iou" in args:
        i = args.index("--min-iou")
        min_iou = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    coco = json.load(open(args[0]))
    masks_dir = args[1]
    errors = []
    cats = {c["id"] for c in coco["categories"]}
    ann_ids = [a["id"] for a in coco["annotations"]]
    img_ids = [im["id"] for im in coco["images"]]
    if len(set(ann_ids)) != len(ann_ids):
        errors.append("annotation ids are not unique")
    if len(set(img_ids)) != len(img_ids):
        errors.append("image ids are not unique")
    if "info" not in coco:
        errors.append("no info (pycocotools >= 2.0.9 needs it)")
    by_image = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    ious = {"polygon": [], "rle": []}
    weighted = {"polygon": [0.0, 0.0], "rle": [0.0, 0.0]}
    class_iou = []
    for im in coco["images"]:
        base = os.path.splitext(im["file_name"])[0] + ".png"
        mask = read_mask(os.path.join(masks_dir, base))
        if mask is None:
            errors.append(f"{base}: mask not readable")
            continue
        h, w = mask.shape
        if (h, w) != (im["height"], im["width"]):
            errors.append(f"{base}: mask {w}x{h}, image entry {im['width']}x{im['height']}")
            continue
        comps = {}
        per_class = {}
        for a in by_image.get(im["id"], []):
            if a["category_id"] not in cats:
                errors.append(f"annotation {a['id']}: category {a['category_id']} is not in categories")
            x, y, bw, bh = a["bbox"]
            if x < 0 or y < 0 or x + bw > w + 1e-6 or y + bh > h + 1e-6 or bw <= 0 or bh <= 0:
                errors.append(f"annotation {a['id']}: bbox {a['bbox']} outside the {w}x{h} image")
            m, kind = raster(a["segmentation"], h, w)
            c = a["category_id"]
            per_class[c] = per_class.get(c, np.zeros((h, w), np.uint8)) | m
            if kind == "rle" and int(m.sum()) != int(round(a["area"])):
                errors.append(f"annotation {a['id']}: RLE holds {int(m.sum())} pixels, area says {a['area']}")
            if a.get("iscrowd", 0):
                truth = (mask == c).astype(np.uint8)
            else:
                if c not in comps:
                    comps[c] = cv2.connectedComponents((mask == c).astype(np.uint8), connectivity=8)[1]
                lab = comps[c]
                hit = np.bincount(lab[m > 0].ravel(), minlength=lab.max() + 1)
                hit[0] = 0
                truth = (lab == int(hit.argmax())).astype(np.uint8) if hit.max() > 0 else np.zeros_like(m)
            inter = int((truth & m).sum())
            union = int((truth | m).sum())
            iou = inter / union if union else 0.0
            ious[kind].append(iou)
            weighted[kind][0] += inter
            weighted[kind][1] += union
            if iou < min_iou:
                errors.append(f"{base} annotation {a['id']} ({kind}, class {c}, area {a['area']}): IoU {iou:.3f} with its component")
        for c, m in per_class.items():
            truth = mask == c
            union = int((truth | (m > 0)).sum())
            class_iou.append(int((truth & (m > 0)).sum()) / union if union else 1.0)

    def stats(v):
        if not v:
            return None
        a = np.array(v)
        return {"n": len(v), "mean": round(float(a.mean()), 4), "median": round(float(np.median(a)), 4),
                "min": round(float(a.min()), 4), "share_ge_0.9": round(float((a >= 0.9).mean()), 4),
                "exact": int((a == 1.0).sum())}

    summary = {
        "images": len(coco["images"]), "annotations": len(coco["annotations"]), "categories": len(cats),
        "instance_iou": {k: stats(v) for k, v in ious.items()},
        "pixel_weighted_iou": {k: round(v[0] / v[1], 4) if v[1] else None for k, v in weighted.items()},
        "class_union_iou": stats(class_iou),
        "errors": errors[:20], "error_count": len(errors),
    }
    print(json.dumps(summary, indent=1))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
