"""Datasets over folders of images and videos, robust image decoding and collate functions."""

from __future__ import annotations

from selfsup.data.collate import (
    BaseCollateFunction,
    ImageCollateFunction,
    MoCoCollateFunction,
    SimCLRCollateFunction,
)
from selfsup.data.folder_index import ROOT_CLASS, FolderIndex, index_image_folder
from selfsup.data.image_dataset import ImageDataset
from selfsup.data.image_loading import (
    IMAGE_EXTENSIONS,
    ImageDecodeError,
    check_image_header,
    load_image,
    to_rgb,
)
from selfsup.data.in_memory import InMemoryImageDataset
from selfsup.data.multi_crop_collate import (
    DINOCollateFunction,
    MultiCropCollateFunction,
    SwaVCollateFunction,
)
from selfsup.data.multi_view_collate import MultiViewCollate
from selfsup.data.undecoded import UndecodedImage, is_undecoded
from selfsup.data.video import VideoDecodeError, VideoFrameReader, VideoFrameSource
from selfsup.data.video_index import (
    VIDEO_EXTENSIONS,
    VideoInfo,
    frame_filename,
    index_videos,
    parse_frame_filename,
    scan_video,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "ROOT_CLASS",
    "VIDEO_EXTENSIONS",
    "BaseCollateFunction",
    "DINOCollateFunction",
    "FolderIndex",
    "ImageCollateFunction",
    "ImageDataset",
    "ImageDecodeError",
    "InMemoryImageDataset",
    "MoCoCollateFunction",
    "MultiCropCollateFunction",
    "MultiViewCollate",
    "SimCLRCollateFunction",
    "SwaVCollateFunction",
    "UndecodedImage",
    "VideoDecodeError",
    "VideoFrameReader",
    "VideoFrameSource",
    "VideoInfo",
    "check_image_header",
    "frame_filename",
    "index_image_folder",
    "index_videos",
    "is_undecoded",
    "load_image",
    "parse_frame_filename",
    "scan_video",
    "to_rgb",
]
