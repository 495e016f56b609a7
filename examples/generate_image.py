"""Generate an image with the scripted fake and save it. Offline, no key.

python examples/generate_image.py [output-directory]

Swap the engine for ``allm.Engine(image_adapter="openai_images", model="gpt-image-1")`` (and set
OPENAI_API_KEY) to ask OpenAI instead: the call and the response are the same.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import allm
from allm.providers.fake_images import ok, png

# The fake answers with whatever the script says: here one small sky-blue PNG.
sky = allm.ImagePart.from_bytes(png(64, 64, (135, 206, 235)), "image/png")
engine = allm.Engine(
    image_adapter="fake_images",
    model="fake-painter",
    adapter_opts={"image_script": [ok(sky)]},
)

response = allm.generate_image(engine, "A clear sky over the sea", size=(64, 64))
image = response.images[0].image

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="allm-"))
folder.mkdir(parents=True, exist_ok=True)
path = folder / "sky.png"
path.write_bytes(image.to_bytes())

print(f"prompt: {image.prompt!r}, model: {response.model}, images: {response.usage.images}")
print(path)
