{
  "targets": [
    {
      "target_name": "rtnl",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/fd_poller.cc",
        "native/js_callback.cc",
        "native/netlink_socket.cc",
        "native/background_sender.cc",
        "native/receive.cc",
        "native/netns.cc",
        "native/packet_queue.cc",
        "native/ioctl.cc",
        "native/bpf.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-Wall", "-Wextra", "-Werror=return-type"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }],
        [
          "\"<!(node -p \"process.env.RTNL_SANITIZE || ''\")\"=='address'",
          {
            "cflags": ["-fsanitize=address", "-fno-omit-frame-pointer"],
            "ldflags": ["-fsanitize=address"]
          }
        ]
      ]
    }
  ]
}
