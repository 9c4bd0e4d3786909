"""A file picker that hands a small file's bytes to Python: an ipyvue template, no CDN."""

from __future__ import annotations

import base64

import ipyvuetify as v
import traitlets

TEMPLATE = """
<template>
  <div class="sektorsim-upload">
    <label>{{ label }}
      <input type="file" accept=".yaml,.yml" @change="pick" />
    </label>
  </div>
</template>
<script>
module.exports = {
  methods: {
    pick(event) {
      const file = event.target.files[0];
      if (!file) { return; }
      const reader = new FileReader();
      reader.onload = () => {
        const data = reader.result.split(",", 2)[1] || "";
        this.payload = {name: file.name, data: data, at: Date.now()};
      };
      reader.readAsDataURL(file);
      event.target.value = "";
    }
  }
}
</script>
"""


class FileUpload(v.VuetifyTemplate):
    """`payload` becomes {name, data (base64), at} each time the user picks a file."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    label = traitlets.Unicode("Your scenario YAML: ").tag(sync=True)
    payload = traitlets.Dict().tag(sync=True)


def decode(payload: dict) -> tuple[str, bytes]:
    """File name and bytes of a payload."""
    return str(payload.get("name") or "scenario.yaml"), base64.b64decode(payload.get("data") or "")
