"""The maths over the matcher's scores: open-set identification metrics, the impostor tail
model, and the threshold calibration the threshold follower and `abis calibrate` use."""
