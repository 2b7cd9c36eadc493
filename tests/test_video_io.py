"""Reading and writing users' videos: streaming, rotation, timestamps, image folders, browser-playable
output, and no file under the final name after an interrupted write."""
from __future__ import annotations

import types

import cv2
import numpy as np
import pytest

from otb_fixtures import moving_target_frames
from siamfc_lib.data.video import ImageFolder, VideoError, natural_key, open_video
from siamfc_lib.data.video_writer import VideoWriter, even_size
from video_fixtures import rotate_mp4_display, unknown_codec_avi, write_video


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(6)]


def test_lossless_round_trip_is_exact_and_frames_stream(tmp_path, frames):
    path = write_video(tmp_path / "clip.mkv", frames, lossless=True)
    source = open_video(path)
    assert source.info.kind == "file" and (source.info.width, source.info.height) == (64, 48)
    stream = source.frames()
    assert isinstance(stream, types.GeneratorType)          # one frame at a time, never a list
    got = list(stream)
    assert [f.index for f in got] == list(range(6))
    for f, original in zip(got, frames):
        np.testing.assert_array_equal(f.rgb, original)
    tail = list(source.frames(start=4))
    assert [f.index for f in tail] == [4, 5] and np.array_equal(tail[0].rgb, frames[4])
    assert [f.index for f in source.frames(start=1, count=2)] == [1, 2]


def test_variable_frame_rate_keeps_each_frames_time(tmp_path, frames):
    times = [0.0, 0.04, 0.1, 0.5, 0.52, 1.5]
    path = write_video(tmp_path / "vfr.mp4", frames, times=times)
    assert [round(f.time, 4) for f in open_video(path).frames()] == times


def test_rotation_metadata_turns_frames_upright(tmp_path):
    image = np.zeros((48, 64, 3), np.uint8)
    image[:8, :16] = (255, 0, 0)                         # red marker top left
    plain = write_video(tmp_path / "plain.mp4", [image] * 3, lossless=False)
    turned = rotate_mp4_display(plain, tmp_path / "portrait.mp4")
    source = open_video(turned)
    assert (source.info.width, source.info.height) == (48, 64) and source.info.rotation == 270
    frame = next(source.frames()).rgb
    # shown 90 degrees clockwise: the top-left marker goes to the top right
    expected = np.rot90(next(open_video(plain).frames()).rgb, -1)
    np.testing.assert_array_equal(frame, expected)
    red = np.argwhere((frame[..., 0] > 200) & (frame[..., 1] < 60)).mean(axis=0)
    assert red[0] < 16 and red[1] > 48 - 16


def test_image_folder_in_natural_order_timed_at_its_rate(tmp_path):
    images, _ = moving_target_frames(3)
    for i, name in zip(range(3), ["frame10.png", "frame2.png", "frame1.png"]):
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor(images[i], cv2.COLOR_RGB2BGR))
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_video(tmp_path, image_fps=4.0)
    assert isinstance(source, ImageFolder) and source.info.frames == 3
    assert [p.name for p in source.files] == ["frame1.png", "frame2.png", "frame10.png"]
    got = list(source.frames())
    assert [f.time for f in got] == [0.0, 0.25, 0.5]
    np.testing.assert_array_equal(got[0].rgb, images[2])
    assert sorted(["b10", "b9", "a"], key=natural_key) == ["a", "b9", "b10"]


@pytest.mark.parametrize("case", ["missing", "unreadable", "unknown_codec", "empty_folder", "past_the_end"])
def test_bad_inputs_name_the_file_and_the_fix(tmp_path, frames, case):
    if case == "missing":
        with pytest.raises(FileNotFoundError, match=r"video: .*nothere\.mp4 does not exist.*video file"):
            open_video(tmp_path / "nothere.mp4")
    elif case == "unreadable":
        (tmp_path / "junk.mp4").write_bytes(b"this is not a video" * 50)
        with pytest.raises(VideoError, match=r"cannot read .*junk\.mp4 as a video: FFmpeg says .*ffmpeg -i"):
            open_video(tmp_path / "junk.mp4")
    elif case == "unknown_codec":
        with pytest.raises(VideoError, match=r"odd\.avi: its video codec has no decoder.*libx264"):
            open_video(unknown_codec_avi(tmp_path / "odd.avi"))
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        with pytest.raises(VideoError, match=r"empty holds no images \(jpg, jpeg, png"):
            open_video(tmp_path / "empty")
    else:
        path = write_video(tmp_path / "short.mp4", frames)
        with pytest.raises(VideoError, match=r"start_frame 9 is past the end of .*short\.mp4: it has 6 frame\(s\), "
                                             r"numbered 0 to 5"):
            list(open_video(path).frames(start=9))


def test_h264_in_mp4_that_starts_playing_before_it_has_all_arrived(tmp_path, frames):
    with VideoWriter(tmp_path / "out.mp4", 64, 48, 10) as writer:
        for i, f in enumerate(frames):
            writer.write(f, i / 10)
    assert writer.encoder == "libx264" and writer.path.suffix == ".mp4"
    data = writer.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")        # +faststart: the index comes first
    import av

    with av.open(str(writer.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert stream.frames == 6


def test_an_interrupted_write_leaves_nothing_under_any_name(tmp_path, frames):
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(tmp_path / "out.mp4", 64, 48, 10) as writer:
            for i in range(30):
                writer.write(frames[i % 6], i / 10)
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_even_sizes_for_yuv420():
    assert even_size(1920, 1080, 1280) == (1280, 720)
    assert even_size(321, 241) == (320, 240)
    assert even_size(100, 3000, 1280) == (42, 1280)
    with pytest.raises(ValueError, match="even"):
        VideoWriter("/tmp/never.mp4", 65, 48)
