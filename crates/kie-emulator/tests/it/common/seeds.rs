//! The createTask request bodies of the five seed documents, copied verbatim from their
//! curl examples (`--data '...'`).

/// (model id, request body exactly as the seed documents send it).
pub const SEED_BODIES: &[(&str, &str)] = &[
    (
        "bytedance/v1-pro-text-to-video",
        r#"{
  "model": "bytedance/v1-pro-text-to-video",
  "callBackUrl": "https://your-domain.com/api/callback",
  "input": {
    "prompt": "日落时分，一个卷头发、背着书包的男孩骑着自行车行驶在洒满金光的乡间小路上。\n【切镜】他放慢车速，望向一片高高的草地。\n【广角镜头】他的剪影停驻在橘色的薄雾中。",
    "aspect_ratio": "16:9",
    "resolution": "720p",
    "duration": "5",
    "camera_fixed": false,
    "seed": -1,
    "enable_safety_checker": true
  }
}"#,
    ),
    (
        "bytedance/v1-pro-fast-image-to-video",
        r#"{
  "model": "bytedance/v1-pro-fast-image-to-video",
  "callBackUrl": "https://your-domain.com/api/callback",
  "input": {
    "prompt": "电影质感的特写镜头序列：阳光洒落的窗边，质朴木桌上摆放着一只精致的陶瓷咖啡杯与杯碟，滚烫浓郁的意式浓缩咖啡从上方以纤细的金色水流缓缓注入杯中，分阶段逐步填满：空杯飘着淡淡蒸汽→1/4杯盛着深色油脂→半杯咖啡旋动、蒸汽升腾→3/4杯接近杯沿→满杯恰好未溢出，表面油亮且有柔和的焦外高光；超写实风格，暖调黄金时刻光线，浅景深，照片级真实感，纹理细节丰富，蒸汽轻扬，氛围静谧且具吸引力 --ar 16:9 --q 2 --style raw",
    "image_url": "https://file.aiquickdraw.com/custom-page/akr/section-images/1762340693669m6sey187.webp",
    "resolution": "720p",
    "duration": "5"
  }
}"#,
    ),
    (
        "sora-2-pro-text-to-video",
        r#"{
  "model": "sora-2-pro-text-to-video",
  "callBackUrl": "https://your-domain.com/api/callback",
  "input": {
    "prompt": "一只快乐的小狗在花园里奔跑",
    "aspect_ratio": "landscape",
    "n_frames": "10",
    "size": "high",
    "remove_watermark": true
  }
}"#,
    ),
    (
        "kling/v2-1-master-text-to-video",
        r#"{
  "model": "kling/v2-1-master-text-to-video",
  "callBackUrl": "https://your-domain.com/api/callback",
  "input": {
    "prompt": "士兵从运输机跳下的第一人称视角——镜头因气流颠簸而晃动，氧气面罩的反光忽明忽暗——云层散开时，下方战场中防空火力与导弹尾迹交织闪动",
    "duration": "5",
    "aspect_ratio": "16:9",
    "negative_prompt": "模糊、畸变、低画质",
    "cfg_scale": 0.5
  }
}"#,
    ),
    (
        "hailuo/02-text-to-video-pro",
        r#"{
  "model": "hailuo/02-text-to-video-pro",
  "callBackUrl": "https://your-domain.com/api/callback",
  "input": {
    "prompt": "高俯角宽景中近景跟拍镜头，以两米高度极速掠过史前蕨类植物和苔藓覆盖的地面，画面主体是一个真实的小男孩（粉色T恤、粉色短裤、白色鞋子、白色长袜），背向镜头，身体舒展，平稳向前滑翔，腾空而起，在下方的地形上投射出清晰的影子。他的腿和身体高高离开地面，双脚不着地，以超人的姿势翱翔。背景是广袤的侏罗纪山谷，遍布茂密的古老丛林植被和高大的苏铁树。远处，嶙峋的火山山脉拔地而起，一条蜿蜒的小路穿梭其间。体型庞大、行动缓慢的蜥脚类恐龙在遥远的地平线上觅食。鲜艳的蓝天上漂浮着大朵蓬松的白云。强烈的动态运动模糊效果，增添了高速飞行的逼真感和浓郁的电影级景深。写实画质——原生未修饰。",
    "prompt_optimizer": true
  }
}"#,
    ),
];
