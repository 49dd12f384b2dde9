"""A file under analysis: sniffed type, hash, and a lazy, shared, one-time decode.

Analyzers never open the file themselves for pixels; they ask ``Media`` so that a
12 MP JPEG is decoded once whatever the number of analyzers. The file is opened
read-only and never written.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.errors import MediaError
from triage.fileio import file_digest
from triage.sniff import Sniffed, not_supported_reason, sniff

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

DEFAULT_MAX_PIXELS = 200_000_000
DEFAULT_MAX_BYTES = 2 * 1024**3
# Working set of a full-resolution decode (see decoded_bytes): about 140 MP of RGB.
DEFAULT_MAX_DECODED_BYTES = 1024 * 1024**2
_HEAD_BYTES = 4096


class Media:
    """One input file. Construct with :meth:`open`; every decode is cached."""

    def __init__(
        self,
        path: Path,
        sniffed: Sniffed,
        size: int,
        sha256: str,
        mtime: float,
        head: bytes,
        max_pixels: int,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    ) -> None:
        self.path = path
        self.format = sniffed.format
        self.kind = sniffed.kind
        self.size = size
        self.sha256 = sha256
        self.mtime = mtime
        self.head = head
        self.max_pixels = max_pixels
        self.max_decoded_bytes = max_decoded_bytes
        self.mode: str | None = None  # Pillow mode the header declares (images)
        self.width: int | None = None
        self.height: int | None = None
        self.duration: float | None = None
        # Frames or pages of an animated or multi-page image, when more than one (only
        # the first is examined); None for a still.
        self.frames: int | None = None
        # The EXIF orientation tag (2-8) when it asks viewers to turn or mirror the
        # picture; None when it is shown as stored. Analyzers read the stored grid.
        self.orientation: int | None = None
        # Shared per-file features (reduced copies, block DCTs...), each computed once
        # whichever analyzer thread asks first; see :meth:`_memo`.
        self._memo_lock = threading.Lock()
        self._memo_done: dict[tuple[Any, ...], Any] = {}
        self._memo_busy: dict[tuple[Any, ...], threading.Event] = {}
        # Why the video container could not be read (the file is still tried).
        self.video_header_error: str | None = None
        # The shared video pass, by its settings (triage.video.stream.shared_stream).
        self.video_passes: dict[Any, Any] = {}

    # ------------------------------------------------------------------ open
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    ) -> Media:
        """Check, hash and sniff ``path``; read the image header (not the pixels).

        Raises :class:`MediaError` with a one-line reason for anything that is not
        analyzable media.
        """
        p = Path(path)
        try:
            st = p.stat()
        except FileNotFoundError:
            raise MediaError("no such file; check the path") from None
        except PermissionError:
            raise MediaError("permission denied reading the file's folder") from None
        except OSError as exc:
            raise MediaError(f"cannot stat the file: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise MediaError("this is a directory; use `triage scan DIR` for folders")
        if not stat.S_ISREG(st.st_mode):
            raise MediaError("not a regular file (device, pipe or socket)")
        if st.st_size == 0:
            raise MediaError("the file is empty (0 bytes)")
        if st.st_size > max_bytes:
            raise MediaError(
                f"the file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit (--max-bytes)"
            )
        try:
            sha256, head = file_digest(p, _HEAD_BYTES)
        except PermissionError:
            raise MediaError("permission denied: the file is not readable by this user") from None
        except OSError as exc:
            raise MediaError(f"cannot read the file: {exc.strerror or exc}") from None
        sniffed = sniff(head)
        media = cls(
            p, sniffed, st.st_size, sha256, st.st_mtime, head, max_pixels, max_decoded_bytes
        )
        if sniffed.kind == "unknown":
            raise MediaError(not_supported_reason(head))
        if sniffed.kind == "image":
            media._read_image_header()
        else:
            media._read_video_header()
        return media

    def _read_image_header(self) -> None:
        img = self.pil_header
        w, h = img.size
        self.width, self.height = int(w), int(h)
        self.mode = str(img.mode)
        # Read from the frame headers (an animated GIF's 150 frames, 53 MB: 50 ms), no
        # frame is decoded. A JPEG's further MPF images are a phone's gain or depth map
        # or a second view, not frames: not counted. A damaged later frame leaves the
        # count unknown; the first frame is still examined.
        with contextlib.suppress(Exception):
            frames = int(getattr(img, "n_frames", 1)) if self.format != "jpeg" else 1
            self.frames = frames if frames > 1 else None
        # pillow-heif turns a HEIF's pixels itself and sets the tag to 1, so a HEIF's
        # decode is already upright.
        with contextlib.suppress(Exception):
            tag = int(img.getexif().get(0x0112, 1))
            self.orientation = tag if 2 <= tag <= 8 else None
        if w <= 0 or h <= 0:
            raise MediaError(f"the image declares an impossible size {w}x{h}")
        if w * h > self.max_pixels:
            raise MediaError(
                f"the image declares {w}x{h} = {w * h / 1e6:,.0f} MP, over the "
                f"{self.max_pixels / 1e6:,.0f} MP limit (possible decompression bomb; "
                "raise --max-pixels if it is genuine)"
            )

    def _read_video_header(self) -> None:
        try:
            import av

            with av.open(str(self.path), mode="r", metadata_errors="replace") as container:
                streams = container.streams.video
                if streams:
                    vs = streams[0]
                    if vs.codec_context is None:  # PyAV >= 14: no decoder for the codec
                        from triage.errors import NO_DECODER

                        self.video_header_error = NO_DECODER
                    else:
                        self.width = int(vs.codec_context.width or 0) or None
                        self.height = int(vs.codec_context.height or 0) or None
                        self.orientation = _video_orientation(container, vs)
                if container.duration is not None:
                    self.duration = float(container.duration) / 1_000_000
                elif streams and streams[0].duration and streams[0].time_base:
                    self.duration = float(streams[0].duration * streams[0].time_base)
        except Exception as exc:  # a damaged container still gets a report
            from triage.errors import ffmpeg_reason

            self.video_header_error = f"the container could not be read ({ffmpeg_reason(exc)})"
        self._check_video_length()

    def _check_video_length(self) -> None:
        """A video cut short in a download or copy is an error of the file, said in those
        words; what can be read of it is still examined."""
        from triage.fileio import open_input
        from triage.forensics.truncation import video_ends_early

        try:
            with open_input(self.path) as fh:
                short = video_ends_early(fh, self.size, self.format)
        except OSError:
            return
        if short is None:
            return
        read = (
            "; what could be read of it is examined below"
            if self.video_header_error is None
            else f" (decoder: {self.video_header_error})"
        )
        self.video_header_error = _cut_short(short, read)

    # --------------------------------------------------------------- raw data
    @property
    def extension(self) -> str:
        return self.path.suffix.lower()

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def is_video(self) -> bool:
        return self.kind == "video"

    @cached_property
    def data(self) -> bytes:
        """The whole file. Images only: videos are streamed by their analyzer."""
        if self.kind == "video":
            raise MediaError("video files are streamed, not read whole")
        with open(self.path, "rb") as fh:
            return fh.read()

    @cached_property
    def pil_header(self) -> Image.Image:
        """A Pillow image opened on the bytes, header parsed, pixels not decoded.

        Use it for ``.info``, ``.getexif()``, text chunks; never call ``load()`` on it
        (call :meth:`image` for pixels).
        """
        import io

        from PIL import ExifTags, Image, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = None  # our own limit is checked before any decode
        if self.format == "heif" and not heif_decoder():
            raise MediaError(HEIF_MISSING)
        try:
            img = Image.open(io.BytesIO(self.data))
        except UnidentifiedImageError:
            raise MediaError(
                _truncated(self.data, self.format)
                or f"the {self.format.upper()} header is damaged; no decoder accepts it"
            ) from None
        except Exception as exc:
            raise MediaError(
                _truncated(self.data, self.format, _short(exc))
                or f"the {self.format.upper()} header cannot be parsed: {exc}"
            ) from None
        # Pillow's getexif() marks its cache as loaded before it parses, so an analyzer
        # thread asking while another one's call is parsing got an empty EXIF (seen on
        # PNGs whose EXIF is a text chunk: the generator analyzer's containers changed
        # between runs). Parse it here, while one thread holds the file; a damaged block
        # is left for the first caller to meet, as before. The Exif sub-IFD is parsed
        # lazily too, seeking the shared file: two threads reading it at once got an
        # empty IFD (the metadata analyzer's maker-note flag changed with the thread
        # count), so it is read here as well.
        try:
            exif = img.getexif()
        except Exception:
            img._exif = None
        else:
            # The first caller meets a damaged sub-IFD, as before.
            with contextlib.suppress(Exception):
                exif.get_ifd(ExifTags.IFD.Exif)
        return img

    # ----------------------------------------------------------------- pixels
    def decoded(self) -> bool:
        """True once the pixels were decoded (by any analyzer)."""
        return "_decoded" in self.__dict__

    @property
    def decoded_bytes(self) -> int:
        """Estimated memory of a full-resolution decode, from the header alone."""
        return decoded_bytes(self.mode or "RGB", (self.width or 0) * (self.height or 0))

    @cached_property
    def _stream_error(self) -> str | None:
        """Why the compressed pixel data cannot hold the declared image (None if it can).

        Checked before any decode: libjpeg fills a missing entropy stream with grey
        and reports nothing, after allocating the full declared size.
        """
        if self.format != "jpeg":
            return None
        from triage.forensics.jpeg import JpegError, min_entropy_bytes, parse_jpeg

        try:
            info = parse_jpeg(self.data)
        except JpegError:
            return None  # Pillow's own error says it better
        frame = info.frame
        if frame is None:
            return None
        size = f"{frame.width}x{frame.height}"
        if info.scans == 0:
            return (
                f"the JPEG holds no compressed image data (no SOS segment): its header "
                f"declares {size} pixels, none of which are in the file"
            )
        need = min_entropy_bytes(frame)
        if need is not None and info.entropy_bytes < need:
            return (
                f"the JPEG's compressed image data is truncated: {size} pixels need at "
                f"least {need:,} bytes of it, the file holds {info.entropy_bytes:,}"
            )
        return None

    def _check_full_decode(self) -> None:
        """Raise MediaError when the pixels cannot or should not be decoded in full."""
        if self.kind != "image":
            raise MediaError("no still image to decode in a video file")
        if self._stream_error:
            raise MediaError(self._stream_error)
        need = self.decoded_bytes
        if need > self.max_decoded_bytes:
            raise MediaError(
                f"full-resolution pixels not decoded: {self.width}x{self.height} "
                f"(mode {self.mode}) would take about {need / 2**20:,.0f} MB, over the "
                f"{self.max_decoded_bytes / 2**20:,.0f} MB decode budget (--max-decoded-mb); "
                "analyzers that need every pixel did not run"
            )

    @cached_property
    def _decoded(self) -> Image.Image:
        import io

        from PIL import Image

        Image.MAX_IMAGE_PIXELS = None
        self._check_full_decode()
        try:
            img = Image.open(io.BytesIO(self.data))
            img.load()
        except Exception as exc:
            raise MediaError(_decode_reason(exc, self.data, self.format)) from None
        return img

    def image(self) -> Image.Image:
        """The decoded first frame as an 8-bit RGB Pillow image (decoded once)."""
        return self._rgb_image

    @cached_property
    def _rgb_image(self) -> Image.Image:
        return to_rgb(self._decoded)

    @cached_property
    def rgb(self) -> np.ndarray:
        """Decoded pixels, H x W x 3 uint8, read-only (shared between analyzers)."""
        arr = pixel_array(self.image())
        arr.flags.writeable = False
        return arr

    @cached_property
    def gray(self) -> np.ndarray:
        """Luma, H x W float32 in 0..255 (ITU-R BT.601 weights), read-only."""
        import cv2
        import numpy as np

        g = cv2.cvtColor(np.ascontiguousarray(self.rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
        g.flags.writeable = False
        return g

    def reduced(self, max_side: int) -> np.ndarray:
        """RGB uint8 pixels with the long side at most ``max_side`` (cached per size).

        Sizes up to ``REDUCED_BASE`` are all derived from one cached base reduction,
        so every analyzer sees the same pixels whichever analyzers ran before it
        (results must not depend on --only). For a JPEG the base comes from Pillow's
        DCT-domain draft decode, which skips most of the inverse DCT.
        """
        return self._memo(("reduced", max_side), lambda: self._make_reduced(max_side))

    def _make_reduced(self, max_side: int) -> np.ndarray:
        w, h = self.width or 0, self.height or 0
        if max(w, h) <= max_side:
            return self.rgb
        if max_side <= REDUCED_BASE:
            return _area_resize(self._base, max_side)
        if self.decoded_bytes > self.max_decoded_bytes:
            return _area_resize(self._bounded(max_side), max_side)
        return _area_resize(self.rgb, max_side)

    # ------------------------------------------------------- shared features
    @cached_property
    def luma(self) -> np.ndarray:
        """Full-resolution luma, H x W uint8, read-only: Pillow's "L" conversion of the
        shared decode (ITU-R BT.601 weights, rounded), without a full-size RGB array.

        The one luma plane of the block-level analyzers (compression, resampling,
        spectral, tamper): a crop of it equals the "L" conversion of the same crop.
        """
        out = pixel_array(self.image().convert("L"))
        out.flags.writeable = False
        return out

    def reduced_gray(self, max_side: int) -> np.ndarray:
        """Luma (float32, 0..255, BT.601 as OpenCV rounds it) of :meth:`reduced`,
        cached per size, read-only: the working image of noise and copy-move."""

        def make() -> np.ndarray:
            import cv2
            import numpy as np

            rgb = np.ascontiguousarray(self.reduced(max_side))
            return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)

        return self._memo(("reduced_gray", max_side), make)

    def noise_residual(self, max_side: int) -> np.ndarray:
        """Immerkaer high-pass residual (float32, read-only) of :meth:`reduced_gray`,
        cached per size (see :func:`triage.forensics.noise.noise_residual`)."""

        def make() -> np.ndarray:
            from triage.forensics.noise import noise_residual

            return noise_residual(self.reduced_gray(max_side))

        return self._memo(("noise_residual", max_side), make)

    def block_dct(
        self,
        y0: int = 0,
        x0: int = 0,
        terms: int = 64,
        row_step: int = 1,
        col_step: int = 1,
    ) -> np.ndarray:
        """8x8 block DCT of :attr:`luma` on the grid at (y0, x0), cached per argument set.

        Float32 planes (terms, block_rows, block_cols) of the zig-zag terms, level
        shift applied (see :func:`triage.forensics.dct.block_dct`), read-only. Each
        distinct request is computed once per file; requests are not served from a
        larger cached one, so the values never depend on which analyzer ran first.
        """

        def make() -> np.ndarray:
            from triage.forensics.dct import block_dct

            return block_dct(self.luma, y0, x0, row_step=row_step, terms=terms, col_step=col_step)

        return self._memo(("block_dct", y0, x0, terms, row_step, col_step), make)

    def shared(self, key: tuple[Any, ...], make: Callable[[], np.ndarray]) -> np.ndarray:
        """A plane two analyzers derive alike that ``Media`` does not name itself,
        computed by ``make()`` once per file (read-only). ``key`` names the plane and
        every parameter it depends on (e.g. ``("camera.region_planes", 1024)``)."""
        return self._memo(("shared", *key), make)

    def _memo(self, key: tuple[Any, ...], make: Callable[[], np.ndarray]) -> np.ndarray:
        """``make()`` once per key and file, shared between analyzer threads: a second
        thread asking for a piece being computed waits for it instead of redoing it."""
        while True:
            with self._memo_lock:
                if key in self._memo_done:
                    return self._memo_done[key]  # type: ignore[no-any-return]
                busy = self._memo_busy.get(key)
                if busy is None:
                    busy = self._memo_busy[key] = threading.Event()
                    mine = True
                else:
                    mine = False
            if not mine:
                busy.wait()
                continue  # done, or the maker failed: then this thread tries itself
            try:
                out = make()
                out.flags.writeable = False
                with self._memo_lock:
                    self._memo_done[key] = out
            finally:
                with self._memo_lock:
                    del self._memo_busy[key]
                busy.set()
            return out

    @cached_property
    def _base(self) -> np.ndarray:
        w, h = self.width or 0, self.height or 0
        if max(w, h) <= REDUCED_BASE:
            return self.rgb
        if self.format == "jpeg" and self._draft_reduces(REDUCED_BASE):
            return _area_resize(self._draft(REDUCED_BASE), REDUCED_BASE)
        if self.decoded_bytes > self.max_decoded_bytes:
            return _area_resize(self._bounded(REDUCED_BASE), REDUCED_BASE)
        return _area_resize(self.rgb, REDUCED_BASE)

    def _bounded(self, max_side: int) -> np.ndarray:
        """RGB pixels at a reduction, for an image over the decode budget: decoded in its
        own mode (1 byte a pixel for bilevel or palette), reduced by an integer factor,
        and only then converted, so the full-size RGB and luma copies never exist."""
        import io

        import numpy as np
        from PIL import Image

        if self.format == "jpeg":
            return self._draft(max_side)
        if self._stream_error:
            raise MediaError(self._stream_error)
        pixels = (self.width or 0) * (self.height or 0)
        mode = self.mode or "RGB"
        native = decoded_bytes(mode, pixels, working=False)
        # A mode Image.reduce does not take is converted first: that copy counts too.
        converted = 0 if mode in _REDUCIBLE else pixels * (1 if mode == "1" else 4)
        if max(2 * native, native + converted) > self.max_decoded_bytes:
            raise MediaError(
                f"pixels not decoded: {self.width}x{self.height} (mode {self.mode}) takes about "
                f"{native / 2**20:,.0f} MB even in its own mode, over the "
                f"{self.max_decoded_bytes / 2**20:,.0f} MB decode budget (--max-decoded-mb)"
            )
        factor = max(1, max(self.width or 0, self.height or 0) // max_side)
        try:
            img: Image.Image = Image.open(io.BytesIO(self.data))
            img.load()
            if img.mode not in _REDUCIBLE:
                img = img.convert("L" if img.mode == "1" else "RGBA")
            small = img.reduce(factor)
            del img
        except Exception as exc:
            raise MediaError(_decode_reason(exc, self.data, self.format)) from None
        return np.asarray(to_rgb(small))

    def _draft_reduces(self, max_side: int) -> bool:
        """Whether Pillow's DCT-domain draft for ``max_side`` decodes fewer pixels than
        the full decode (read from the header; nothing is decoded).

        The draft keeps both sides at or above the size asked for, so a 2048 x 1536
        photo is decoded whole for 1024 px: then the shared full decode gives the same
        pixels without a second decode. Where the draft does reduce (both sides at
        least twice the size), it costs about what an area reduction of the full
        decode costs and leaves a file that is only hashed (``db add``,
        ``--only provenance``) without a full decode.
        """
        import io

        from PIL import Image

        try:
            src = Image.open(io.BytesIO(self.data))
            src.draft("RGB", (max_side, max_side))
        except Exception:
            return True  # the draft decode says what is wrong
        return bool(src.size != (self.width, self.height) or src.mode != self.mode)

    def _draft(self, max_side: int) -> np.ndarray:
        import io

        import numpy as np
        from PIL import Image

        if self._stream_error:
            raise MediaError(self._stream_error)
        try:
            src = Image.open(io.BytesIO(self.data))
            src.draft("RGB", (max_side, max_side))
            img = src.convert("RGB")
        except Exception as exc:
            raise MediaError(_decode_reason(exc, self.data, self.format)) from None
        return np.asarray(img)


REDUCED_BASE = 1024
# Bytes per band of rows pixel_array packs at a time.
PACK_CHUNK_BYTES = 256 * 1024
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "RGBX", "I", "F", "CMYK"}
# Bytes per pixel of a Pillow image in each mode ("1" and "P" take a byte per pixel).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "La": 2, "RGB": 3, "YCbCr": 3}
_MODE_BYTES |= {"LAB": 3, "HSV": 3, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


def _video_orientation(container: Any, stream: Any) -> int | None:
    """The EXIF orientation tag of the turn a player gives the video (a phone's
    portrait video is stored landscape with a display matrix: 6), or None. Reads the
    header, or decodes the first frame (within 64 packets: milliseconds); the
    container's packets are consumed."""
    from triage.video.container import ORIENTATION_OF_TURN, first_frame_rotation, header_rotation

    with contextlib.suppress(Exception):
        meta = {str(k): str(v) for k, v in (stream.metadata or {}).items()}
        turn = header_rotation(stream, meta)
        if turn is None:
            turn = first_frame_rotation(container, stream)
        return ORIENTATION_OF_TURN.get(turn) if turn is not None else None
    return None


def decoded_bytes(mode: str, pixels: int, working: bool = True) -> int:
    """Memory a decode of ``pixels`` pixels in Pillow ``mode`` takes.

    With ``working`` (the default): the decoded image, its 8-bit RGB copy (unless it
    is RGB already) and one float32 luma plane, which is what the analyzers of one
    file hold at once. Without: the decoded image alone.
    """
    native = _MODE_BYTES.get(mode, 4)
    if not working:
        return pixels * native
    return pixels * (native + (0 if mode == "RGB" else 3) + 4)


def _area_resize(rgb: np.ndarray, max_side: int) -> np.ndarray:
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    if max(w, h) <= max_side:
        return rgb
    scale = max_side / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA)


def pixel_array(img: Image.Image, chunk_bytes: int = PACK_CHUNK_BYTES) -> np.ndarray:
    """The pixels of an "RGB" or "L" Pillow image as a read-only numpy array (H x W x 3
    or H x W, uint8), packed in one pass; other modes as ``np.asarray`` gives them.

    ``np.asarray(img)`` goes through ``Image.tobytes``, which packs the pixels in 64 kB
    pieces and then joins the pieces: a second copy of the whole image (on a 14 MP
    photo, 52 ms against 25 ms here). Pillow's raw encoder packs bands of rows, about
    ``chunk_bytes`` each, into one numpy array: a single packed buffer of a whole photo
    is fresh memory the kernel maps page by page (on a 12 MP JPEG, 22 ms of which
    packing is the lesser part), where the bands reuse the same few hundred kB and the
    numpy array gets large pages (9 ms). Where that encoder interface differs (another
    Pillow), the plain ``np.asarray`` path is taken: same pixels, slower.
    """
    import numpy as np
    from PIL import Image

    bands = {"RGB": 3, "L": 1}.get(img.mode)
    width, height = img.size
    if bands is None or width == 0 or height == 0:
        return np.asarray(img)
    img.load()
    row = width * bands
    out = np.empty((height, row), np.uint8)
    step = max(1, chunk_bytes // row)
    try:
        for y0 in range(0, height, step):
            y1 = min(height, y0 + step)
            encoder = Image._getencoder(img.mode, "raw", img.mode)
            try:
                encoder.setimage(img.im, (0, y0, width, y1))
                # One row more than the band: the raw encoder never splits a row.
                _, status, data = encoder.encode(row * (y1 - y0 + 1))
            finally:
                encoder.cleanup()
            if status != 1 or len(data) != row * (y1 - y0):
                return np.asarray(img)
            out[y0:y1] = np.frombuffer(data, np.uint8).reshape(y1 - y0, row)
    except Exception:
        return np.asarray(img)
    out.flags.writeable = False
    return out.reshape((height, width, bands) if bands > 1 else (height, width))


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB of any Pillow image: 16-bit and float grey scaled to its own maximum,
    transparency flattened onto white (how a viewer shows it)."""
    from PIL import Image

    img.load()
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        top = max(float(np.nanmax(arr)), 1.0)
        return Image.fromarray((arr.clip(0, top) * (255.0 / top)).astype("uint8")).convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return img.convert("RGB")


HEIF_MISSING = (
    "a HEIF/HEIC image (the photo format of iPhones and many Android phones): its decoder "
    "is optional and not installed here; install it with: pip install pillow-heif "
    "(or the triage[heif] extra), then check the file again"
)


@cache
def heif_decoder() -> bool:
    """Whether HEIF/HEIC images can be decoded: pillow-heif (optional, the ``heif`` extra)
    is installed, and its Pillow plugin is registered (once per process)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _decode_reason(exc: BaseException, data: bytes, fmt: str | None) -> str:
    from triage.limits import out_of_memory

    oom = out_of_memory(exc)
    if oom is not None:
        return f"the image could not be decoded: {oom}"
    return _truncated(data, fmt, _short(exc)) or f"the image data cannot be decoded ({_short(exc)})"


def _truncated(data: bytes, fmt: str | None, decoder: str | None = None) -> str | None:
    """The error for a file cut short, or None when its container is whole.

    A partial picture is not analyzed: the part a viewer fills in (grey, or the last
    row repeated) would read as an edit to every pixel analyzer.
    """
    from triage.forensics.truncation import ends_early

    short = ends_early(data, fmt)
    if short is None:
        return None
    return _cut_short(short, f" (decoder: {decoder})" if decoder else "")


def _cut_short(short: str, after: str) -> str:
    """The one wording of a truncated file's error, image or video; ``after`` ends it."""
    return (
        f"the file is truncated: {short} (cut short in a download or copy?); "
        f"get the complete file and check it again{after}"
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
