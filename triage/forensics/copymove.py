"""Copy-move (cloning) detection by keypoint self-matching.

Keypoints (SIFT) of an image are matched against the same image: for every keypoint,
its nearest neighbours other than itself; a generalised 2-NN ratio test keeps only
distinctive matches, matches between points closer than ``min_shift`` pixels are
dropped (a point always resembles its neighbour), and RANSAC fits an affine transform
to the surviving pairs. A cloned region gives many pairs obeying one transform. A
region pasted *flipped* is found the same way from a second set of pairs: every
keypoint's descriptor with its bins permuted into its mirror image's, matched against
the descriptors as they are (SIFT itself is not mirror-invariant).

Repeated things in authentic images (windows, tiles, letters, a logo printed twice)
also produce such pairs. Two guards keep them apart from clones: the transform must
gather enough inliers spread over an area, and the *pixels* must agree after the
transform — a clone copies the sensor noise too, so the high-pass residuals of the
source and the warped target correlate; two separate windows of a building do not.

References
----------
I. Amerini, L. Ballan, R. Caldelli, A. Del Bimbo, G. Serra, "A SIFT-based forensic
method for copy-move attack detection and transformation recovery", IEEE TIFS 6(3),
2011 (g2NN test, clustering, transform estimation).
D. G. Lowe, "Distinctive image features from scale-invariant keypoints", IJCV 2004.
R. Ma, J. Chen, Z. Su, "MI-SIFT: mirror and inversion invariant generalization for SIFT
descriptor", ACM CIVR 2010 (mirrored descriptors by permuting bins).
V. Christlein et al., "An evaluation of popular copy-move forgery detection
approaches", IEEE TIFS 7(6), 2012.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from triage.forensics.noise import structure_mask

# Fewest smooth (non-edge) pixels on which the residual correlation is trusted.
MIN_FLAT = 120
# Residuals are compared this many pixels away from edges: sharpening halos and
# ringing around identical glyphs or logos are deterministic and would agree too.
EDGE_GROW = 3


@dataclass
class CloneMatch:
    """One source -> target correspondence, in working-image pixels."""

    source_box: tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)
    target_box: tuple[int, int, int, int]
    transform: np.ndarray  # 2x3 affine, source -> target
    inliers: int
    src_points: np.ndarray  # N x 2
    dst_points: np.ndarray  # N x 2
    residual_corr: (
        float  # correlation of high-pass residuals after the transform (nan: unmeasurable)
    )
    pixel_corr: float  # correlation of pixels after the transform
    scale: float
    rotation_deg: float
    shift: float  # displacement of the region centre, pixels
    # How far the matched points are from any similarity (see similarity_misfit):
    # the RMS displacement, pixels, an affine map explains beyond the best similarity,
    # and the chance of a misfit this large from keypoint jitter alone.
    misfit_px: float = 0.0
    misfit_p: float = 1.0
    # The copy is a mirror image (flipped): found by self_matches(mirrored=True), det(transform) < 0.
    mirrored: bool = False


def keypoints(gray_u8: np.ndarray, max_features: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoints of a grey image.

    The contrast threshold is lower than OpenCV's default so that smooth, low-contrast
    regions (skies, walls) still yield points; clones hide there.

    Parameters
    ----------
    gray_u8 : ndarray
        H x W uint8 luma.
    max_features : int
        Most keypoints kept (the strongest).

    Returns
    -------
    pts : ndarray
        N x 2 float32 positions (x, y).
    desc : ndarray
        N x 128 float32 descriptors.

    References
    ----------
    D. G. Lowe, "Distinctive image features from scale-invariant keypoints", IJCV 2004.
    """
    import cv2

    sift = cv2.SIFT_create(nfeatures=max_features, contrastThreshold=0.01)  # type: ignore[attr-defined]
    kps, desc = sift.detectAndCompute(gray_u8, None)
    if desc is None or len(kps) == 0:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    pts = np.array([k.pt for k in kps], np.float32)
    return pts, desc.astype(np.float32)


def knn_l2(
    desc: np.ndarray, k: int, block: int = 1024, query: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours of every descriptor among all of them (L2), or of
    every ``query`` descriptor among ``desc``.

    Squared distances come from one BLAS matrix product per block of rows
    (``|a|^2 + |b|^2 - 2 a.b``). SIFT descriptors hold small integers, so in float32
    every such sum is exact below 2**24 and the distances equal a brute-force
    matcher's bit for bit; otherwise float64 is used. Ties are broken by index.

    Parameters
    ----------
    desc : ndarray
        n x d descriptors.
    k : int
        Neighbours per descriptor (its own point included).
    block : int
        Rows per matrix product (bounds memory).
    query : ndarray, optional
        m x d descriptors whose neighbours among ``desc`` are wanted (default:
        ``desc`` itself).

    Returns
    -------
    idx : ndarray
        (m, k) indices into ``desc``, nearest first (without ``query``, each row's own
        point included).
    dist : ndarray
        (m, k) L2 distances.

    References
    ----------
    I. Amerini et al., IEEE TIFS 6(3), 2011 (nearest-neighbour matching of SIFT
    descriptors within one image).
    """
    n = len(desc)
    k = min(k, n)
    both = [desc] if query is None else [desc, query]
    integral = all(bool(np.array_equal(a, np.rint(a))) for a in both)
    sq_max = max(
        (float((a.astype(np.float64) ** 2).sum(axis=1).max()) for a in both if len(a)),
        default=0.0,
    )
    exact = integral and 4.0 * sq_max < 2.0**24
    dtype = np.float32 if exact else np.float64
    d: np.ndarray = np.ascontiguousarray(desc, dtype=dtype)
    sq = (d * d).sum(axis=1)
    q: np.ndarray = d if query is None else np.ascontiguousarray(query, dtype=dtype)
    sq_q = sq if query is None else (q * q).sum(axis=1)
    m = len(q)
    if exact:
        # One matrix product gives |b|^2 - 2 a.b: [a, 1] . [-2 b, |b|^2] (the -2 is
        # exact, a power of two; zero columns pad the width to a multiple of 8). A row's
        # own |a|^2 is the same for the whole row, so it changes neither the order nor
        # the ties of the row: it is added to the k chosen entries only. Every partial
        # sum is an integer below 3 * sq_max < 2**24, so all of it is exact.
        width = d.shape[1] + 1 + (-(d.shape[1] + 1)) % 8
        left = np.zeros((m, width), dtype)
        left[:, : d.shape[1]] = q
        left[:, d.shape[1]] = 1.0
        right = np.zeros((n, width), dtype)
        np.multiply(d, dtype(-2.0), out=right[:, : d.shape[1]])
        right[:, d.shape[1]] = sq
    idx = np.empty((m, k), np.int64)
    dist = np.empty((m, k), np.float32)
    for r0 in range(0, m, block):
        rows = slice(r0, min(m, r0 + block))
        if exact:
            d2 = left[rows] @ right.T
        else:
            d2 = sq_q[rows, None] + sq[None, :] - 2.0 * (q[rows] @ d.T)
            np.maximum(d2, 0.0, out=d2)
        part = _k_smallest(d2, k) if k < n else np.tile(np.arange(n), (d2.shape[0], 1))
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.lexsort((part, pd), axis=1)
        idx[rows] = np.take_along_axis(part, order, axis=1)
        pd = np.take_along_axis(pd, order, axis=1)
        if exact:
            pd += sq_q[rows, None]
        dist[rows] = np.sqrt(np.maximum(pd, 0.0)).astype(np.float32)
    return idx, dist


def _k_smallest(d2: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` smallest values (unordered), the same set
    ``np.argpartition(d2, k - 1)[:, :k]`` gives.

    Wide rows are cut to a few candidates first: the columns are split into groups
    and a row's k-th smallest group minimum bounds its k-th smallest value from above
    (the k smallest group minima are k distinct entries), so only the entries at or
    below that bound (a handful per row) need sorting. A row's k-th smallest value
    then picks its entries at or below it; where exactly ``k`` are, that is the set.
    Rows with ties at the k-th value (more than ``k`` qualify) go to ``argpartition``
    itself, so its choice among the tied entries is kept as well.
    """
    rows, n = d2.shape
    groups = n // _GROUP
    if groups < 4 * k:
        return _k_smallest_partition(d2, k)
    # Group g holds the columns g, g + groups, g + 2 * groups...: contiguous slices,
    # so the minima are a few elementwise passes (the last, short slice joins the
    # first groups).
    gmin = d2[:, :groups].copy()
    for i in range(1, -(-n // groups)):
        part = d2[:, i * groups : (i + 1) * groups]
        np.minimum(gmin[:, : part.shape[1]], part, out=gmin[:, : part.shape[1]])
    bound = np.partition(gmin, k - 1, axis=1)[:, k - 1]
    r, c = _nonzero2d(d2 <= bound[:, None])
    v = d2[r, c]
    order = np.lexsort((v, r))
    r, c, v = r[order], c[order], v[order]
    # Every row has at least k candidates: its k-th smallest is its (k-1)-th.
    kth = v[np.searchsorted(r, np.arange(rows)) + k - 1]
    below = v <= kth[r]
    ties = np.bincount(r[below], minlength=rows) != k
    out = np.empty((rows, k), np.int64)
    out[~ties] = c[below & ~ties[r]].reshape(-1, k)
    if ties.any():
        out[ties] = np.argpartition(d2[ties], k - 1, axis=1)[:, :k]
    return out


_GROUP = 32  # columns per group of the candidate bound in _k_smallest


def _nonzero2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a sparse 2-D boolean array, reading it 8 bytes at a time
    (only the words holding a True are expanded)."""
    n = mask.shape[1]
    pad = (-n) % 8
    m = np.ascontiguousarray(mask) if pad == 0 else np.pad(mask, ((0, 0), (0, pad)))
    words = np.flatnonzero(m.view(np.uint64))
    wi, bit = np.nonzero(m.reshape(-1, 8)[words])
    flat = words[wi] * 8 + bit
    return flat // (n + pad), flat % (n + pad)


def _k_smallest_partition(d2: np.ndarray, k: int) -> np.ndarray:
    """:func:`_k_smallest` for narrow rows: one partition of every full row."""
    kth = np.partition(d2, k - 1, axis=1)[:, k - 1]
    below = d2 <= kth[:, None]
    ties = below.sum(axis=1) != k
    out = np.empty((d2.shape[0], k), np.int64)
    below[ties] = False
    out[~ties] = np.nonzero(below)[1].reshape(-1, k)
    if ties.any():
        out[ties] = np.argpartition(d2[ties], k - 1, axis=1)[:, :k]
    return out


def self_matches(
    pts: np.ndarray,
    desc: np.ndarray,
    ratio: float = 0.6,
    min_shift: float = 20.0,
    k: int = 6,
    mirrored: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of keypoints with near-identical descriptors (g2NN test).

    For each keypoint the ``k`` nearest descriptors are taken (the first is itself);
    following Amerini et al., consecutive distances d_n / d_{n+1} are compared and
    every neighbour before the first ratio above ``ratio`` is a match (so a region
    cloned twice yields both copies). Pairs closer than ``min_shift`` pixels, and
    duplicates (j, i) of (i, j), are dropped.

    With ``mirrored``, every keypoint's *mirrored* descriptor
    (:func:`mirror_permutation`) is matched against the descriptors as they are: a
    region copied with a left-right or up-down flip gives such pairs, which SIFT's own
    descriptors do not match. A keypoint on a symmetric structure is its own mirror
    image: its own point is dropped from its neighbours all the same.

    Parameters
    ----------
    pts : ndarray
        N x 2 keypoint positions.
    desc : ndarray
        N x 128 descriptors.
    ratio : float
        The g2NN ratio threshold.
    min_shift : float
        Smallest distance between the two points of a pair, pixels.
    k : int
        Neighbours examined per keypoint.
    mirrored : bool
        Pair keypoints with mirror images of themselves instead.

    Returns
    -------
    i, j : ndarray
        Index arrays of the matched pairs (i < j).

    References
    ----------
    I. Amerini, L. Ballan, R. Caldelli, A. Del Bimbo, G. Serra, "A SIFT-based forensic
    method for copy-move attack detection and transformation recovery", IEEE TIFS 6(3),
    2011. R. Ma, J. Chen, Z. Su, ACM CIVR 2010 (mirrored SIFT descriptors).
    """
    n = len(pts)
    if n < 3:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    query = desc[:, mirror_permutation()] if mirrored else None
    idx, dist = knn_l2(desc, min(k, n), query=query)
    return _g2nn_pairs(pts, idx, dist, ratio, min_shift)


def mirror_permutation() -> np.ndarray:
    """The order of SIFT descriptor bins that turns a keypoint's descriptor into the
    descriptor of its mirror image.

    OpenCV's descriptor is 4 x 4 spatial cells (rows along the axis perpendicular to
    the keypoint's orientation, columns along it) x 8 gradient-orientation bins measured
    from that orientation, index ``(row * 4 + col) * 8 + bin``. A mirror image keeps
    the orientation axis (the orientation itself is mirrored with the picture) and
    flips the axis across it: the cell rows reverse and every gradient angle changes
    sign (bin ``o`` -> ``-o mod 8``). Checked on OpenCV 4.x by computing SIFT on
    generated textures and on their ``cv2.flip`` (left-right and up-down; median
    distance between corresponding descriptors 37 with this order, 415 without, of
    ~512 for a descriptor's norm); ``tests/test_copymove_mirror.py`` checks it again.
    A flip about any axis is a left-right flip and a rotation, and SIFT is
    rotation-invariant, so one order serves every mirror.

    Returns
    -------
    ndarray
        (128,) int64 indices: ``desc[:, mirror_permutation()]`` is the mirrored
        descriptor.

    References
    ----------
    R. Ma, J. Chen, Z. Su, "MI-SIFT: mirror and inversion invariant generalization for
    SIFT descriptor", ACM CIVR 2010. X. Guo, X. Cao, "MIFT: a framework for feature
    descriptors to be mirror reflection invariant", Image and Vision Computing 30, 2012.
    """
    row, col, ori = np.meshgrid(np.arange(4), np.arange(4), np.arange(8), indexing="ij")
    return (((3 - row) * 4 + col) * 8 + (-ori) % 8).ravel().astype(np.int64)


def _g2nn_pairs(
    pts: np.ndarray, idx: np.ndarray, dist: np.ndarray, ratio: float, min_shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """The g2NN test on each keypoint's neighbour list (``idx``, ``dist``, nearest
    first): unique pairs (i < j) at least ``min_shift`` apart."""
    n = len(pts)
    # Each row without its own point (the k-NN list of a point holds it unless
    # exact duplicates push it out; then the last neighbour is dropped instead).
    own = idx == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), idx.shape[1] - 1)
    keep = np.ones(idx.shape, bool)
    keep[np.arange(n), drop] = False
    nb = idx[keep].reshape(n, -1)
    nd = dist[keep].reshape(n, -1)
    d0, d1 = nd[:, :-1], nd[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        passed = (d1 > 0) & (d0 / np.where(d1 > 0, d1, 1.0) <= ratio)
    # A neighbour counts only while every earlier ratio passed (the chain breaks).
    chain = np.cumprod(passed, axis=1).astype(bool)
    ii = np.repeat(np.arange(n)[:, None], chain.shape[1], axis=1)[chain]
    jj = nb[:, :-1][chain]
    far = np.hypot(*(pts[ii] - pts[jj]).T) >= min_shift
    src, dst = ii[far], jj[far]
    if len(src) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo = np.minimum(src, dst)
    hi = np.maximum(src, dst)
    pairs = np.unique(np.stack([lo, hi], 1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def similarity_misfit(src: np.ndarray, dst: np.ndarray) -> tuple[float, float]:
    """How much better an affine map than a similarity explains matched points.

    A clone is moved, scaled, rotated or mirrored: the source and target keypoints
    are related by a similarity, up to keypoint jitter. Two copies of one object in a
    3-D scene (the windows of a facade, tiles, a fence seen at an angle) are related by
    a perspective: locally an affine map with shear and unequal scales, which a
    similarity fits measurably worse. Both are fitted by least squares (the
    similarity also mirrored, the better of the two kept), and the extra residual
    of the similarity is tested against the affine fit's residual (an F test with 2
    and 2n - 6 degrees of freedom: the affine map has 2 more parameters).

    Parameters
    ----------
    src, dst : ndarray
        N x 2 matched positions, source and target.

    Returns
    -------
    misfit : float
        RMS displacement (pixels) the affine map explains beyond the similarity.
    p : float
        Probability of an F statistic this large if the points obeyed a
        similarity with independent jitter (1.0 with fewer than 4 points).

    References
    ----------
    R. Hartley, A. Zisserman, "Multiple View Geometry in Computer Vision", 2nd ed.,
    2004 (the hierarchy of similarity, affine and projective maps).
    """
    s = np.asarray(src, np.float64)
    d = np.asarray(dst, np.float64)
    n = len(s)
    if n < 4:
        return 0.0, 1.0
    x, y = (s - s.mean(axis=0)).T
    t = (d - d.mean(axis=0)).T.ravel()  # u then v
    z = np.zeros_like(x)
    affine = np.stack(
        [
            np.concatenate([x, z]),
            np.concatenate([y, z]),
            np.concatenate([z, x]),
            np.concatenate([z, y]),
        ],
        axis=1,
    )
    ss_affine = _lstsq_ss(affine, t)
    ss_sim = np.inf
    for yy in (y, -y):  # a mirrored copy is a similarity too
        # u = a x - b yy, v = b x + a yy
        sim = np.stack([np.concatenate([x, yy]), np.concatenate([-yy, x])], axis=1)
        ss_sim = min(ss_sim, _lstsq_ss(sim, t))
    extra = max(0.0, ss_sim - ss_affine)
    misfit = float(np.sqrt(extra / n))
    dof = 2 * n - 6
    if ss_affine <= 1e-12:
        return misfit, 0.0 if extra > 1e-9 else 1.0
    f = (extra / 2.0) / (ss_affine / dof)
    # Survival function of F(2, dof), in closed form.
    return misfit, float((1.0 + 2.0 * f / dof) ** (-dof / 2.0))


def _lstsq_ss(a: np.ndarray, b: np.ndarray) -> float:
    """Residual sum of squares of the least-squares solution of a @ p = b."""
    p = np.linalg.lstsq(a, b, rcond=None)[0]
    r = a @ p - b
    return float(r @ r)


def _decompose(m: np.ndarray) -> tuple[float, float]:
    a, b = float(m[0, 0]), float(m[0, 1])
    c, d = float(m[1, 0]), float(m[1, 1])
    det = a * d - b * c
    scale = float(np.sqrt(abs(det)))
    if det < 0:
        # A mirrored map: the rotation of m after a left-right flip (m @ diag(-1, 1)),
        # so a plain left-right flip reads 0 degrees and an up-down flip 180.
        a, c = -a, -c
    rot = float(np.degrees(np.arctan2(c - b, a + d)))
    return scale, rot


def _box(p: np.ndarray, pad: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    h, w = shape
    x0 = int(max(0, np.floor(p[:, 0].min() - pad)))
    y0 = int(max(0, np.floor(p[:, 1].min() - pad)))
    x1 = int(min(w, np.ceil(p[:, 0].max() + pad) + 1))
    y1 = int(min(h, np.ceil(p[:, 1].max() + pad) + 1))
    return x0, y0, x1, y1


def _compact(p: np.ndarray) -> np.ndarray:
    """Points within 3x the median distance from the median point (robust core)."""
    d = np.hypot(*(p - np.median(p, axis=0)).T)
    return np.asarray(d <= max(3.0 * float(np.median(d)), 12.0))


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


def _roi(pts: np.ndarray, pad: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    h, w = shape
    x0 = max(0, int(np.floor(pts[:, 0].min() - pad)))
    y0 = max(0, int(np.floor(pts[:, 1].min() - pad)))
    x1 = min(w, int(np.ceil(pts[:, 0].max() + pad)) + 1)
    y1 = min(h, int(np.ceil(pts[:, 1].max() + pad)) + 1)
    return x0, y0, x1, y1


def _warp_roi(
    g: np.ndarray, m: np.ndarray, roi: tuple[int, int, int, int], flags: int, border: float
) -> np.ndarray:
    """For each pixel of ``roi`` (source side), the image at its image under ``m``."""
    import cv2

    x0, y0, x1, y1 = roi
    mm = m.astype(np.float64).copy()
    mm[:, 2] = m[:, 2] + m[:, :2] @ np.array([x0, y0], np.float64)
    return cv2.warpAffine(
        g, mm, (x1 - x0, y1 - y0), flags=flags | cv2.WARP_INVERSE_MAP, borderValue=border
    )


def verify(
    gray: np.ndarray,
    m: np.ndarray,
    src_pts: np.ndarray,
    radius: float = 8.0,
    away: tuple[float, float] | None = None,
    controls: bool = True,
) -> tuple[float, float]:
    """Correlation of pixels and of high-pass residuals between a source region and the
    target region mapped back through ``m``.

    Sampled over the inliers' convex hull widened by ``radius`` (residuals: away from
    edges only). Clones score high on both; repeated but distinct objects agree in
    pixels only loosely and in residuals hardly at all. A periodic pattern shared by
    the whole image (JPEG block grid, up-sampling checkerboard) also makes residuals
    agree, so the residual correlation is reported net of a control: the same
    transform moved by 16 px (a multiple of the 2- and 8-pixel periods), which keeps
    any periodic pattern aligned but not a clone's noise; and, when ``away`` (the
    region's size) is given, the same displacement applied beside the region.

    Parameters
    ----------
    gray : ndarray
        H x W luma.
    m : ndarray
        2 x 3 affine transform, source -> target.
    src_pts : ndarray
        N x 2 source inlier positions.
    radius : float
        Widening of their hull, pixels.
    away : tuple of float, optional
        The region's size, for the control beside it.
    controls : bool
        Subtract the controls (False: raw residual correlation).

    Returns
    -------
    pixel : float
        Correlation of pixels.
    residual : float
        Correlation of residuals net of the controls; NaN when too little smooth area.

    References
    ----------
    V. Christlein et al., "An evaluation of popular copy-move forgery detection
    approaches", IEEE TIFS 7(6), 2012 (verification by correlation).
    """
    import cv2

    g = np.asarray(gray, np.float32)
    roi = _roi(src_pts, radius + 4, g.shape)
    x0, y0, x1, y1 = roi
    gs = g[y0:y1, x0:x1]
    mask: np.ndarray = np.zeros(gs.shape, np.uint8)
    # The inliers' convex hull, widened by ``radius``: the smooth background between
    # keypoints is where a clone's copied noise shows (and where two separately
    # rendered copies of the same text or logo differ).
    hull = cv2.convexHull(np.round(src_pts - [x0, y0]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    mask = cv2.dilate(
        mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(radius) + 1,) * 2)
    )
    hp_src = gs - cv2.GaussianBlur(gs, (0, 0), 1.0)
    edges = structure_mask(gs, grow=EDGE_GROW)

    def sample(mm: np.ndarray) -> tuple[float, float, int]:
        warped = _warp_roi(g, mm, roi, cv2.INTER_LINEAR, -1.0)
        sel = (mask > 0) & (warped >= 0)
        if sel.sum() < 50:
            return float("nan"), float("nan"), 0
        pixel = _corr(gs[sel], warped[sel])
        flat = sel & ~edges & ~structure_mask(warped, grow=EDGE_GROW)
        if flat.sum() < MIN_FLAT:
            return pixel, float("nan"), int(flat.sum())
        hp_dst = warped - cv2.GaussianBlur(warped, (0, 0), 1.0)
        return pixel, _corr(hp_src[flat], hp_dst[flat]), int(flat.sum())

    pixel, res, _ = sample(m)
    if np.isnan(pixel):
        return 0.0, 0.0
    if np.isnan(res) or not controls:
        return pixel, res  # nan: too little smooth area to tell
    control = 0.0
    for dx, dy in ((16, 0), (0, 16), (-16, 0), (0, -16)):
        mm = m.copy()
        mm[0, 2] += dx
        mm[1, 2] += dy
        _, c, n = sample(mm)
        if n >= MIN_FLAT and not np.isnan(c):
            control = max(control, c)
    for c in _repeat_controls(g, m, src_pts, radius):
        control = max(control, c)
    if away is not None:
        # Second control: the same displacement next to the region (source and target
        # both moved by the region's size). A clone ends at its border; a pattern
        # repeating across the image (a screen's pixel grid, a fence, fabric) does not.
        ax, ay = away
        for sx, sy in ((ax, 0.0), (-ax, 0.0), (0.0, ay), (0.0, -ay)):
            moved = src_pts + np.array([sx, sy], np.float32)
            if (
                moved.min() < 0
                or moved[:, 0].max() >= g.shape[1]
                or moved[:, 1].max() >= g.shape[0]
            ):
                continue
            mm = m.astype(np.float64).copy()
            mm[:, 2] = m[:, 2] + np.array([sx, sy]) - m[:, :2] @ np.array([sx, sy])
            _, c = verify(g, mm, moved, radius, controls=False)
            if not np.isnan(c):
                control = max(control, c)
    return pixel, res - control


def _repeat_controls(
    g: np.ndarray, m: np.ndarray, src_pts: np.ndarray, radius: float
) -> list[float]:
    """Raw residual correlations of the periodicity controls of :func:`verify`: pairs
    of regions that a repeating pattern makes alike as well as a clone's pair."""
    import cv2

    out: list[float] = []
    if np.linalg.det(m[:, :2]) >= 0:
        # Periodicity control: the same transform applied once more (target -> next)
        # and once less (previous -> source). Text lines, a fence or a screen's moiré
        # repeat with the displacement itself; a clone does not have a third copy.
        inv = cv2.invertAffineTransform(m)
        for pts in (src_pts @ m[:, :2].T + m[:, 2], src_pts @ inv[:, :2].T + inv[:, 2]):
            if pts.min() < 0 or pts[:, 0].max() >= g.shape[1] or pts[:, 1].max() >= g.shape[0]:
                continue
            _, c = verify(g, m, pts.astype(np.float32), radius, controls=False)
            if not np.isnan(c):
                out.append(c)
    else:
        # A mirror applied twice is a mere shift (or nothing: a flip about an axis
        # undoes itself), so "once more" would compare the clone with itself. Its
        # periodicity control is the plain shift of the source onto the target: a row
        # of symmetric objects (pickets, windows, letters) repeats by that shift too,
        # a mirrored clone's noise does not survive it unflipped.
        centre = src_pts.mean(axis=0)
        mm = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        mm[:, 2] = m[:, :2] @ centre + m[:, 2] - centre
        _, c = verify(g, mm, src_pts, radius, controls=False)
        if not np.isnan(c):
            out.append(c)
    return out


def grow_region(
    gray: np.ndarray, m: np.ndarray, src_pts: np.ndarray, win: int = 7, thresh: float = 0.8
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """Dense extent of a clone.

    The source pixels whose neighbourhood matches the transformed neighbourhood (local
    zero-mean normalised cross-correlation over a ``win`` x ``win`` window >=
    ``thresh``), kept where connected to the keypoint inliers, searched within half the
    inliers' extent around them.

    Parameters
    ----------
    gray : ndarray
        H x W luma.
    m : ndarray
        2 x 3 affine transform, source -> target.
    src_pts : ndarray
        N x 2 source inlier positions.
    win : int
        ZNCC window side.
    thresh : float
        ZNCC a pixel needs.

    Returns
    -------
    tuple of box or None
        (source box, target box), each (x0, y0, x1, y1), or None.

    References
    ----------
    V. Christlein et al., IEEE TIFS 7(6), 2012 (the same ZNCC post-processing).
    """
    import cv2

    g = np.asarray(gray, np.float32)
    span = float(np.max(src_pts.max(axis=0) - src_pts.min(axis=0)))
    roi = _roi(src_pts, max(24.0, 0.5 * span), g.shape)
    x0, y0, x1, y1 = roi
    gs = g[y0:y1, x0:x1]
    warped = _warp_roi(g, m, roi, cv2.INTER_LINEAR, -1.0)
    inside = (warped >= 0).astype(np.uint8)
    k = (win, win)
    ma, mb = cv2.boxFilter(gs, -1, k), cv2.boxFilter(warped, -1, k)
    va = cv2.boxFilter(gs * gs, -1, k) - ma * ma
    vb = cv2.boxFilter(warped * warped, -1, k) - mb * mb
    cov = cv2.boxFilter(gs * warped, -1, k) - ma * mb
    ncc = cov / np.sqrt(np.maximum(va * vb, 1e-6))
    good = ((ncc >= thresh) & (inside > 0) & (va > 0.5)).astype(np.uint8)
    good = cv2.morphologyEx(good, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    good = cv2.morphologyEx(good, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    n, labels = cv2.connectedComponents(good, connectivity=8)
    keep = np.zeros(n, bool)
    xs = np.clip(np.round(src_pts[:, 0]).astype(int) - x0, 0, x1 - x0 - 1)
    ys = np.clip(np.round(src_pts[:, 1]).astype(int) - y0, 0, y1 - y0 - 1)
    keep[labels[ys, xs]] = True
    keep[0] = False
    ys_m, xs_m = np.nonzero(keep[labels])
    if len(xs_m) == 0:
        return None
    src = np.stack([xs_m + x0, ys_m + y0], axis=1).astype(np.float64)
    dst = src @ m[:, :2].T + m[:, 2]
    h, w = g.shape
    return _box(src, 0.0, (h, w)), _box(dst, 0.0, (h, w))


def find_clones(
    gray: np.ndarray,
    max_features: int = 4000,
    min_inliers: int = 8,
    min_shift_frac: float = 0.04,
    max_models: int = 3,
    grow: bool = True,
    max_anisotropy: float = 1.12,
    mirror: bool = True,
) -> tuple[list[CloneMatch], dict[str, float]]:
    """Candidate cloned regions in a grey image.

    SIFT keypoints matched within the image (g2NN); affine transforms fitted to the
    pairs one after another by RANSAC (each pair in both directions, the inliers of a
    transform removed before the next), then verified by correlation and grown to the
    dense extent.

    Parameters
    ----------
    gray : ndarray
        H x W luma, float or uint8, 0..255.
    max_features : int
        Most keypoints.
    min_inliers : int
        Inliers a transform needs.
    min_shift_frac : float
        Smallest displacement, as a share of the image's diagonal (at least 12 px).
    max_models : int
        Most transforms kept.
    grow : bool
        Grow each match to its dense extent (:func:`grow_region`).
    max_anisotropy : float
        Largest ratio of the transform's two scale factors.
    mirror : bool
        Also look for mirrored (flipped) copies (:func:`self_matches` with ``mirrored``; up to
        ``max_models`` more transforms, fitted to those pairs apart).

    Returns
    -------
    clones : list of CloneMatch
        Candidates, strongest first, before any decision threshold on their correlations.
    stats : dict
        Counters for the evidence (keypoints, matched pairs, mirrored pairs).

    References
    ----------
    I. Amerini et al., IEEE TIFS 6(3), 2011 (g2NN test, clustering, transform estimation).
    """
    g = np.asarray(gray)
    g8 = np.clip(g, 0, 255).astype(np.uint8) if g.dtype != np.uint8 else g
    h, w = g8.shape
    diag = float(np.hypot(h, w))
    min_shift = max(12.0, min_shift_frac * diag)
    pts, desc = keypoints(g8, max_features)
    i, j = self_matches(pts, desc, min_shift=min_shift)
    stats = {"keypoints": float(len(pts)), "matched_pairs": float(len(i))}
    limits = (min_inliers, min_shift, max_models, max_anisotropy)
    out = _fit_clones(g, pts, i, j, limits, grow, mirrored=False)
    if mirror:
        # A separate pool, so mirrored pairs neither take the place of ordinary
        # models nor join their inliers.
        mi, mj = self_matches(pts, desc, min_shift=min_shift, mirrored=True)
        stats["mirrored_pairs"] = float(len(mi))
        out += _fit_clones(g, pts, mi, mj, limits, grow, mirrored=True)
    out.sort(key=lambda c: -c.inliers)
    return out, stats


def _fit_clones(
    g: np.ndarray,
    pts: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    limits: tuple[int, float, int, float],
    grow: bool,
    mirrored: bool,
) -> list[CloneMatch]:
    """Transforms fitted by RANSAC to the matched pairs (i, j), one after another, each
    measured (:func:`_measure`); ``limits`` are :func:`find_clones`'s min_inliers,
    min_shift, max_models and max_anisotropy. ``mirrored``: the pairs are mirror images
    (:func:`self_matches` with ``mirrored``) and only maps that flip (determinant < 0) are kept."""
    import cv2

    min_inliers, min_shift, max_models, max_anisotropy = limits
    out: list[CloneMatch] = []
    if len(i) < min_inliers:
        return out
    # Each pair in both directions: a clone's pairs obey T one way and T^-1 the other,
    # so RANSAC picks up one consistent direction without knowing which is the copy.
    a = np.concatenate([pts[i], pts[j]])
    b = np.concatenate([pts[j], pts[i]])
    pair_id = np.concatenate([np.arange(len(i)), np.arange(len(i))])
    alive = np.ones(len(a), bool)
    for _ in range(max_models):
        idx = np.flatnonzero(alive)
        if len(idx) < min_inliers:
            break
        m, inl = cv2.estimateAffine2D(
            a[idx],
            b[idx],
            method=cv2.RANSAC,
            ransacReprojThreshold=3.0,
            maxIters=3000,
            confidence=0.995,
        )
        if m is None or inl is None:
            break
        inl = inl.ravel().astype(bool)
        used = np.isin(pair_id, pair_id[idx[inl]])
        alive &= ~used
        if inl.sum() < min_inliers:
            break
        sel = idx[inl]
        if mirrored:
            sel = _one_way(sel, pair_id, b - a)
        sp, dp = a[sel], b[sel]
        # RANSAC can admit a stray pair that happens to fit; keep the compact core.
        core = _compact(sp) & _compact(dp)
        sp, dp = sp[core], dp[core]
        if len(sp) < min_inliers:
            continue
        scale, rot = _decompose(m)
        shift = float(np.hypot(*(dp.mean(0) - sp.mean(0))))
        sv = np.linalg.svd(m[:, :2], compute_uv=False)
        # Clones are moved, scaled, rotated or mirrored: a similarity. A strongly
        # sheared or anisotropic fit is chance alignment (text lines, perspective).
        if not (0.5 <= scale <= 2.0) or shift < min_shift or sv[0] > max_anisotropy * sv[1]:
            continue
        # Mirror-image pairs that a map without a flip fits are chance alignment.
        if mirrored and np.linalg.det(m[:, :2]) >= 0:
            continue
        # Keep only distinct keypoint locations (a pair seen twice is one piece of evidence).
        uniq = np.unique(np.round(sp).astype(np.int32), axis=0)
        if len(uniq) < min_inliers:
            continue
        c = _measure(g, m, sp, dp, len(uniq), scale, rot, shift, grow)
        c.mirrored = mirrored
        out.append(c)
    return out


def _one_way(sel: np.ndarray, pair_id: np.ndarray, move: np.ndarray) -> np.ndarray:
    """Of the inliers ``sel`` (rows of the pairs taken both ways), each pair once.

    A flip about a line undoes itself (T = T^-1), so both directions of every pair of
    such a mirrored clone fit it: the "source" points would cover both copies and the
    displacement of their centre would vanish. Where both directions of a pair are
    inliers, the one moving along the main axis of the displacements (``move``, one
    row per direction) is kept, which puts every source point on one side of the line.
    """
    pid = pair_id[sel]
    _, inverse, counts = np.unique(pid, return_inverse=True, return_counts=True)
    twice = counts[inverse] > 1
    if not twice.any():
        return sel
    v = move[sel[twice]]
    axis = np.linalg.svd(v, full_matrices=False)[2][0]
    keep = np.ones(len(sel), bool)
    keep[np.flatnonzero(twice)[v @ axis < 0]] = False
    return sel[keep]


def _measure(
    g: np.ndarray,
    m: np.ndarray,
    sp: np.ndarray,
    dp: np.ndarray,
    inliers: int,
    scale: float,
    rot: float,
    shift: float,
    grow: bool,
) -> CloneMatch:
    """Boxes (grown to the dense extent when ``grow``) and correlations of one fitted
    clone with source points ``sp`` and target points ``dp``."""
    import cv2

    h, w = g.shape[:2]
    gf = g.astype(np.float32)
    pad = 8.0
    src_box, dst_box = _box(sp, pad, (h, w)), _box(dp, pad, (h, w))
    grown = grow_region(gf, m, sp)
    if grown is not None:
        src_box, dst_box = _union(src_box, grown[0]), _union(dst_box, grown[1])
    away = (src_box[2] - src_box[0] + 8.0, src_box[3] - src_box[1] + 8.0)
    # Interpolation blurs whichever side is resampled: check both directions.
    pix, res = verify(gf, m, sp, away=away)
    pix2, res2 = verify(gf, cv2.invertAffineTransform(m), dp, away=away)
    if np.isnan(res) or (not np.isnan(res2) and res2 > res):
        pix, res = pix2, res2
    if not grow:
        src_box, dst_box = _box(sp, pad, (h, w)), _box(dp, pad, (h, w))
    misfit, misfit_p = similarity_misfit(sp, dp)
    return CloneMatch(
        source_box=src_box,
        target_box=dst_box,
        transform=m,
        inliers=inliers,
        src_points=sp,
        dst_points=dp,
        residual_corr=res,
        pixel_corr=pix,
        scale=scale,
        rotation_deg=rot,
        shift=shift,
        misfit_px=misfit,
        misfit_p=misfit_p,
    )


def overlay(rgb: np.ndarray, clones: list[CloneMatch], scale: float = 1.0) -> np.ndarray:
    """The image with each clone outlined.

    Parameters
    ----------
    rgb : ndarray
        H x W x 3 uint8 image.
    clones : list of CloneMatch
        Matches in working-image coordinates.
    scale : float
        Maps working coordinates onto ``rgb``.

    Returns
    -------
    ndarray
        A copy with each source (green) and target (red) box outlined, inlier pairs
        joined by thin lines and the box centres by a thick one.
    """
    import cv2

    img = np.ascontiguousarray(rgb).copy()
    t = max(1, round(max(img.shape[:2]) / 500))
    for c in clones:
        s = [round(v * scale) for v in c.source_box]
        d = [round(v * scale) for v in c.target_box]
        for p, q in list(zip(c.src_points, c.dst_points, strict=True))[:60]:
            cv2.line(
                img,
                (round(p[0] * scale), round(p[1] * scale)),
                (round(q[0] * scale), round(q[1] * scale)),
                (255, 220, 0),
                1,
                cv2.LINE_AA,
            )
        cv2.rectangle(img, (s[0], s[1]), (s[2] - 1, s[3] - 1), (0, 255, 0), 2 * t)
        cv2.rectangle(img, (d[0], d[1]), (d[2] - 1, d[3] - 1), (255, 0, 0), 2 * t)
        cv2.line(
            img,
            ((s[0] + s[2]) // 2, (s[1] + s[3]) // 2),
            ((d[0] + d[2]) // 2, (d[1] + d[3]) // 2),
            (255, 0, 255),
            2 * t,
            cv2.LINE_AA,
        )
    return img
