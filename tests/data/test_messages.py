"""Messages, content parts, images and threads: FEATURES 1-3 and 10-12."""

from __future__ import annotations

import base64
import json

import pytest

import allm
from allm import ValidationError
from allm.data import Image, ImagePart, ImageSource, Message, Role, TextPart, Thread

PNG_BYTES = b"\x89PNG\r\n\x1a\n"
PNG_BASE64 = base64.b64encode(PNG_BYTES).decode("ascii")


# ------------------------------------------------------------------------------ constructors


@pytest.mark.parametrize(
    ("build", "role"),
    [(allm.system, "system"), (allm.user, "user"), (allm.assistant, "assistant")],
)
def test_f001_role_constructors_build_plain_messages(build, role):
    message = build("hello")

    assert message == Message(Role(role), "hello")
    assert message.role == role
    assert message.role is Role(role)
    assert message.content == "hello"
    assert message.name is None
    assert message.tool_call_id is None
    assert message.tool_calls == ()
    assert message.metadata == {}


def test_f001_user_and_assistant_take_a_list_of_parts_as_a_tuple():
    parts = [TextPart("look"), ImagePart.from_url("https://example.com/cat.png")]

    assert allm.user(parts).content == tuple(parts)
    assert allm.assistant(parts).content == tuple(parts)


def test_f001_a_string_role_is_stored_as_the_role_enum():
    assert Message("assistant", "x").role is Role.ASSISTANT
    # An unknown role is kept as given; validation reports it (see test_validate.py).
    assert Message("robot", "x").role == "robot"


def test_f001_messages_are_frozen_values():
    message = allm.user("hi")

    with pytest.raises(AttributeError):
        message.content = "changed"  # type: ignore[misc]
    assert message == allm.user("hi")


def test_f002_tool_result_carries_the_call_id_and_string_content():
    message = allm.tool_result("call_1", "72F and sunny")

    assert message.role is Role.TOOL
    assert message.tool_call_id == "call_1"
    assert message.content == "72F and sunny"
    assert message.metadata == {}


def test_f002_tool_result_encodes_dict_content_as_json_text():
    message = allm.tool_result("call_1", {"temp": 72, "unit": "F"})

    assert message.tool_call_id == "call_1"
    assert isinstance(message.content, str)
    assert json.loads(message.content) == {"temp": 72, "unit": "F"}


def test_f002_tool_result_keeps_a_part_list():
    parts = [TextPart("see chart"), ImagePart.from_bytes(PNG_BYTES, "image/png")]

    assert allm.tool_result("call_1", parts).content == tuple(parts)


def test_f003_normalize_content_wraps_a_string_in_one_text_part():
    assert Message.normalize_content("hi") == (TextPart("hi"),)


def test_f003_normalize_content_returns_a_part_list_unchanged():
    parts = [TextPart("a"), ImagePart.from_url("https://example.com/a.png"), TextPart("b")]

    assert Message.normalize_content(parts) == tuple(parts)
    assert Message.normalize_content(tuple(parts)) == tuple(parts)
    assert Message.normalize_content([]) == ()


def test_message_text_joins_text_parts():
    message = allm.user([TextPart("one"), ImagePart.from_url("https://x/y.png"), TextPart("two")])

    assert message.text == "one\ntwo"
    assert allm.user("plain").text == "plain"


# ------------------------------------------------------------------------------------ images


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("x.PNG", "image/png"),
        ("photo.jpg", "image/jpeg"),
        ("photo.JPEG", "image/jpeg"),
        ("dir.d/anim.gif", "image/gif"),
        ("pic.webp", "image/webp"),
    ],
)
def test_f010_from_file_infers_the_mime_type_without_reading(path, mime):
    # None of these files exists: the constructor must not touch the disk.
    image = Image.from_file(f"/does/not/exist/{path}")

    assert image.mime_type == mime
    assert image.source == ImageSource("file", f"/does/not/exist/{path}")


@pytest.mark.parametrize("path", ["scan.tiff", "noext", "archive.png.zip", "bmp.bmp"])
def test_f010_from_file_with_an_unknown_extension_has_no_mime_type(path):
    assert Image.from_file(path).mime_type is None


def test_f010_from_file_accepts_a_path_object_and_an_explicit_mime(tmp_path):
    image = Image.from_file(tmp_path / "raw.bin", mime_type="image/png")

    assert image.mime_type == "image/png"
    assert image.source == ImageSource("file", str(tmp_path / "raw.bin"))


def test_image_constructors_build_the_four_source_kinds():
    assert Image.from_bytes(PNG_BYTES, "image/png").source == ImageSource("binary", PNG_BYTES)
    assert Image.from_binary(PNG_BYTES, "image/png") == Image.from_bytes(PNG_BYTES, "image/png")
    assert Image.from_base64(PNG_BASE64, "image/png").source == ImageSource("base64", PNG_BASE64)
    url = Image.from_url("https://example.com/cat.png")
    assert url.source == ImageSource("url", "https://example.com/cat.png")
    assert url.mime_type is None


def test_f011_to_bytes_on_a_url_source_raises_remote_source():
    image = Image.from_url("https://example.com/cat.png")

    for method in (image.to_bytes, image.to_binary):
        with pytest.raises(ValidationError) as caught:
            method()
        assert caught.value.errors == ((("source",), "remote_source"),)


def test_f011_to_data_uri_without_mime_raises_missing_mime_type(tmp_path):
    path = tmp_path / "image.unknown"
    path.write_bytes(PNG_BYTES)

    with pytest.raises(ValidationError) as caught:
        Image.from_file(path).to_data_uri()

    assert caught.value.errors == ((("source",), "missing_mime_type"),)


def test_f011_to_data_uri_checks_remote_source_before_the_mime_type():
    with pytest.raises(ValidationError) as caught:
        Image.from_url("https://example.com/no-mime").to_data_uri()

    assert caught.value.errors == ((("source",), "remote_source"),)


def test_f011_to_bytes_of_invalid_base64_raises_invalid_base64():
    with pytest.raises(ValidationError) as caught:
        Image.from_base64("not base64!", "image/png").to_bytes()

    assert caught.value.errors == ((("source",), "invalid_base64"),)


def test_to_bytes_returns_the_bytes_of_each_local_source(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(PNG_BYTES)

    assert Image.from_bytes(PNG_BYTES, "image/png").to_bytes() == PNG_BYTES
    assert Image.from_base64(PNG_BASE64, "image/png").to_bytes() == PNG_BYTES
    assert Image.from_file(path).to_bytes() == PNG_BYTES


def test_to_data_uri_encodes_bytes_and_forwards_base64_verbatim(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(PNG_BYTES)
    expected = f"data:image/png;base64,{PNG_BASE64}"

    assert Image.from_bytes(PNG_BYTES, "image/png").to_data_uri() == expected
    assert Image.from_file(path).to_data_uri() == expected
    # A base64 source is sent on as given, even when it would not decode.
    assert Image.from_base64("AAAA", "image/gif").to_data_uri() == "data:image/gif;base64,AAAA"


def test_from_data_uri_builds_a_base64_source_and_round_trips():
    uri = f"data:image/webp;base64,{PNG_BASE64}"
    image = Image.from_data_uri(uri)

    assert image.source == ImageSource("base64", PNG_BASE64)
    assert image.mime_type == "image/webp"
    assert image.to_data_uri() == uri


@pytest.mark.parametrize("uri", ["https://example.com/a.png", "data:image/png,abc", "data:"])
def test_from_data_uri_rejects_anything_but_a_base64_data_uri(uri):
    with pytest.raises(ValidationError) as caught:
        Image.from_data_uri(uri)

    assert caught.value.errors == ((("source",), "invalid_data_uri"),)


def test_image_part_constructors_mirror_image_and_keep_detail(tmp_path):
    path = tmp_path / "p.jpg"
    path.write_bytes(PNG_BYTES)

    from_file = ImagePart.from_file(path, detail="low")
    assert from_file == ImagePart(Image.from_file(path), "low")
    assert from_file.mime_type == "image/jpeg"
    assert ImagePart.from_url("https://x/a.png").detail == "auto"
    assert ImagePart.from_bytes(PNG_BYTES, "image/png").image == Image.from_bytes(
        PNG_BYTES, "image/png"
    )
    uri = f"data:image/png;base64,{PNG_BASE64}"
    assert ImagePart.from_data_uri(uri, detail="high").to_data_uri() == uri


# ----------------------------------------------------------------------------------- threads


def test_f012_add_helpers_append_and_return_new_threads():
    empty = Thread()
    thread = (
        empty.add_system("be brief")
        .add_user("hi")
        .add_assistant("hello")
        .add_message(allm.tool_result("c1", "ok"))
        .add_messages([allm.user("a"), allm.user("b")])
    )

    assert empty.messages == ()
    assert thread.messages == (
        allm.system("be brief"),
        allm.user("hi"),
        allm.assistant("hello"),
        allm.tool_result("c1", "ok"),
        allm.user("a"),
        allm.user("b"),
    )
    assert len(thread) == 6


def test_f012_helpers_leave_the_original_thread_and_its_metadata_alone():
    thread = Thread((allm.user("hi"),), {"topic": "weather"})
    longer = thread.add_assistant("sunny")

    assert thread.messages == (allm.user("hi"),)
    assert longer.messages == (allm.user("hi"), allm.assistant("sunny"))
    assert longer.metadata == {"topic": "weather"}


def test_f012_last_message_is_the_final_message_or_none():
    assert Thread().last_message() is None
    thread = Thread.from_messages([allm.user("a"), allm.assistant("b")])
    assert thread.last_message() == allm.assistant("b")
    assert thread.add_user("c").last_message() == allm.user("c")


def test_thread_accepts_a_list_and_stores_a_tuple():
    thread = Thread([allm.user("a")])

    assert thread.messages == (allm.user("a"),)
    assert thread == Thread.from_messages(iter([allm.user("a")]))
