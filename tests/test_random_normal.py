"""funcgrad.random.normal is JAX's: XLA's erf_inv, operation for operation.

JAX computes ``normal`` as ``sqrt(2) * lax.erf_inv(u)``, and XLA's ``erf_inv`` is its own
polynomial approximation (see ``funcgrad/random/_erf_inv.py``).  The vectors below were
generated once with JAX; JAX is not imported here.  Achieved: float16, bfloat16 and float32
bit for bit; float64 within 3 ulp (about 6% of draws differ, by 1-3 ulp).
"""

import base64

import numpy as np
import pytest
import scipy.special

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import random as fr
from funcgrad.random._erf_inv import erf_inv

# Generated with jax 0.10.2 on CPU (jax_enable_x64=True, jax_threefry_partitionable=True: its
# default), raw keys jax.random.PRNGKey(seed):
#   ("normal", dt): jax.random.normal(PRNGKey(seed), shape, dt) for each (seed, shape) in
#       NORMAL_CASES, flattened (C order) and concatenated: 2,000 values per dtype;
#       ("normal", "float16"): jax.random.normal(PRNGKey(5), (200,), jnp.float16).
#   ("erf_inv", dt): jax.lax.erf_inv(tail_inputs(dt)) (eager: the compiled CPU kernel).
#   ("truncated_normal", dt): jax.random.truncated_normal(PRNGKey(3), -3.0, 3.0, (200,), dt).
NORMAL_CASES = [(0, (500,)), (1, (20, 25)), (42, (4, 5, 25)), (2147483647, (500,))]

VECTORS = {  # (what, dtype): the values' little-endian bytes, base64-encoded
    ('normal', 'float32'): (
        "vbLPP/CdAUAXAN6+IgKhvSxRND7X2ni/zJf9vjEf/T7MEio/6j1zv219C0BgQvq/lZa3PgyVIT6Dd6M/6VbBP+l8eD/q"
        "fxk/IlnKPCBP9b8n/+2/0zPdP6tKQT2xalA/w3oGPlTRkD4ZLp8/MrYwPyH9TL+FsT2/V/jEv236mj6ytKm8IAPoPU7z"
        "Yb4ibpA9mHFaP8VfUr9ycG+8wRIavkNvZr+XUkK/couqPvIqTz9j3i49Q+ITvxks1L79evi/kXaoPwYYQT8glyU+H60O"
        "vXFSqr+ZiMk+zRb3PsbHTT9EOyK/9fWEP+7YPb+PI9y+uoBmvugIBb/jqNW/BuQsPzLYaD6jC5e/Ngt6vwA2mT/XXVe/"
        "KukoP7+0iD/mfqE+gBXgPmT/lT+tX2g/836cP4/gC7/DNls/4oICvJ1m8j7b9I2/SRwpQEW7Yz+HxX4/NamCPsDr/z2f"
        "A5U/RJhFPk+UQ75Yid++pbaSv1BYSj7VlpU/C5dfvzW+YT+fLrC+RqgVvo7cab9XX68/KbNHvwrJuj5T5Hk//gjruxiT"
        "Vz5R7UI+IQ3EPkUAor9U/72/2ZXqvX1GjT/wOks+zwVbPs8YKb8YKzq/uRLPPos1Qj73aRq/YO9xP4K8ij+2lgPAAr02"
        "vzfGFz/Wf4Y/y3i7v4H2KD9He5q+slMIPn9mqr4V9sg/OhMTP8IxOT/qWTI/QwsqvzzF+7/poxrALu6LPkeFlD9I8Yc+"
        "b98wP9wag76TdAHAYIUfv8cejz4y16y/UnDPPRY/Az+QLYc+2iDqvwWGtz9C0Kg/u2a/vyzrbj/KYrQ/uOkrvovw8r0X"
        "p3i+2zV2v8+gQb8tqSRA9LOHv5jpnz6gr6c+8qOpPYqVir8psUW/c3UivwP7nD+CVr6/d/lKvy2ZDT/Ev5e/vBZ6P5B8"
        "4L7H1ai+n0OqPqIYJ79lRJq/GeVivzH3BsCXwR6+PG4ovwTLKb+lpgi9nFtlv2rvnT0p6mi/rFWjP4+ozb4a+3+/xBCO"
        "PB0gzz4oIYm/XLGEP4ohK7+/mp+9eKCaP4kzAEDjlpC9Ug2sPqyoFkBfAXm+eh6WPzuMWD+wfzo/+RIZP8hGRL9/cDI+"
        "9FIfv/ymVD9Fxak+A9Fjv5KdWD5ebL29e/rOv1cf077BQrQ/qT2EP0xhij99JJO/Q5IDvYrrmL2JVBk/M1eYv6cMIb+P"
        "n2M9OTS7PkbsCz9UtkM/TvCtvsCiuT5WD5i+gtqDP90vdz+FeUE/PT/4PbSiUj9KGBk/smNWvz8wCz+y4qS+x7Pjvt4m"
        "aj9KNps/ah/mP+95zb/LXqM9QeNEv1oh+b/G9cs/tlZrv/6s27/RNI8/HWBQPpyMOL7nJzM+cRc8v7Xs0T45PMS/wRHa"
        "vyCgAkAm1lG+0D+tvVjvKj95N7G/qSvCPv18Pb8Ev6Y/m0aDv8cq/j64STO/lSYWvZDw1L5P7n6+acxoP/2GQL73pTe/"
        "G4XHPvmlVb5PjUe/GAGmPxThab9iPAg+KzRRP4v9875C1dU+GO0fvNyTbb9TfyY/FrlMwAE37j7Q0as+oqqvPLCijb7e"
        "4i09ouaZvjmzIb+w/Jy/jDE2v3/8XL2E7gXA+Y/yPglSzL/pqR2+UsUcwGdVJj9FEDW/PPcjPu6+yL9x2HA+Z9qUPz/M"
        "2T7cM8m+BtJBP0ur6r3Of4m/ft4lv4FGaL+xb2M+YG/KPku7Nj7ga229NEaGP9sVrD/2ksa9xiC9PUArXT+KS5I67BmH"
        "vyL7iz8UG6u/8sxkP4TkHD0a5BPAePWFPnd/Ez/tUDY/LJbnPZZP6L9sIYY/gMqdv0TSTz3nequ/bUMRQKemUD4nXQY/"
        "dO+gvzvE1b66VSE/LC8Bv/GTI0AjXGs937LgPrCNeb76xqQ/iCCSPz9RBT8QL14+QRqSP0oPZT+JkOc/Kjr0v8vWf7//"
        "dzY/wG8iv09c/737eC8/Sot6PzZ+i74F+p+/QA9kvx9E0D0Ci3I/PVLIPaUboT+I2oU/Lwg+vsKLAz8pofu/KXIev4LF"
        "y78LaEu/SButP6ziBT4HrYo/0W9LP1SCLr6Xzty9BiVevwl84DzBsrY/RcCrvsx2QbzB5Da/CwmmP+JixL+je0K/7Lgn"
        "PvY7078EKb4/Uk3cv1upDr0R9xBAyj35PlFgTT+LywC/4YDBv1mHnb898d++A5r1vVHtB76wKHs/7JpNvkaUWD8qG0I/"
        "b8SvP3aT/z5X1pc9rzySPxabmD9jZMU/jRMkwAsYF7866Ni/NC6aPuWQcj/ljAO+rmgbv8TBGb/J51LA9uupPv0nsz75"
        "bk2/PFK4PXkWWz8sqSK/bfNAvlj6Wj9QaUW/dpC+P9+YD7/7oBs/f7OQP0lgmr+rSWA/0nPJPgPjCj+rxHw/hRvGPzz7"
        "jr/Kbnc/fgrBv3QR1r5Q5lC/F2QyvxiLg76h5N8+Z1omu4JrFUBLYHe8+t4ov9Rd7r6vr6y/EA8oPT8j5j6TGai+CMO+"
        "O+3Par+kJww/fvTMPXTEDT/YqUs/0AIVP/iV4T7xSRE+bazNv1VIrz1WxPE+nXItPxPSOr493s89RMsDvPdo+z9Z7Y6/"
        "GdjHvyPe8r4FQvU/mb2Yv2arkr57BAA+ewuRP25ejL5Lrii+iGDdv1ncjz8arCq/9T6VPdXyhT/KMMe/i3CCvp+VUb/I"
        "JB6+AnutPXg+C77TwR6+KCKiP1LbFz5TDwlAoVeAP+emlL74eLc+ujo1v9dye76JtWI/Gj9JP7uQYz+WoAw/OD93PygK"
        "5r+5Rlw/tg3Pv8eIdb1Zs8C/3BeAv7PAJD9ihdi/ppIEPwLcST9qX46/hvLPvldjkb+9kI4/8xuqvlZ6AT/2XAFA/JeI"
        "PMHfCEBE8SZAUa6jvzFfbj/FYXw/jn2PP2Yxsz2XLsg/nmVuPsW2Tj+NcAA//AI5Pxp5XD83SaE/woBVPzW0ib+5FL6+"
        "nAQBv40Har+nJyu+geEHwIehHz5+DHm//IJCv5d4tL8mwS/AaianPhEUOz9KQ1a+/9qgvpNE1j+iHdO+lhKOPt3QAr+L"
        "0oa+IQwzvzhGeb+H6cW/ISy5v8zLyb9uMwdAEfoPQOAPCz/tfcw/u1LdvyuMoL/zGB6/2E3pvzmWZz/2UVi/x2A/PqhI"
        "0L+rujM/Oog2PyUxjr1GCEg/2cHqvZOLgz8ZnKW/+4R1v38UuL3GxeG9EywXvfDy9j4bicY+TqW6v964RD9WCl2/e6d3"
        "P0Raaj6575Q/iLyGv/K+N7/tjTy/grfQvzgUzb+lVIQ/FiCYv6kbnz8opT4/KA9DvwtBjD8B5YE9Ed8FP/NssTsLB7q+"
        "POU1v3x/Nr5bhsO+xpuxvlRJWD2c1dc9SHUAPwF/gj4c0Ou+TRW2vT7xxz9PYgZAPKy3voAGEEBJ5JY/q2o3QAWXhb7q"
        "W0JA/yyDP0RCgT6ybyQ/+v7IvtmepL5ZpvY9iHEZv+oHDcC5HaA9fFADPxQL+D5TjOe9BQ7NP6kmtr63H9w+k9UyPZpD"
        "vT/qzydA4tNkve3iSj/hU+A+7roAP/tHf7/qIVs/EAWWvw8o2j9KD34+AaUEQLkQKb+H0tQ9J8rvP9ssrD9MTJg/Y5qw"
        "vxQWKr+2sb8/DLsNP/7zS71yS24/tXS3PpmENL/7uQu/6+NXvzncob/oPPU+5ORFv56/Qz9kaFM/C/fGP7wbKj8JXz+/"
        "s6jJvoA36L4GqJW/v8EkQGLXUD85njk/4oIBPzAvTT/yBmK/KG/Gvnlci76hSBO/RtSJPvswd77/hdA+9CGXvuat5D6b"
        "sz8/pmBgv9P4rz+pe68+RB+Iv+idHz+WJyO/00TvPyHc1r7tqQY/1dEQP9pndz/cqYa/t743wPzowb7XeeU+cqWEP4+0"
        "/j3g8Zo/FkzHvul8476+ZwU/O1YRP8EPiT9RtfS/ONLzPspGJj3rwS6+5aRHP9xjCcAXkZg+MZGUvwWMGz/Iyne/rduG"
        "v76xuD+uZl+/OUqrPuqVrL6fjSy+rGrAv0BXgT045a8++MNNPpkdFMA8d6m/OhdrP/5AdD4lBf2/vJ/JvRvF2744XYA+"
        "GuHWPzDRYL90pH6/wU7eP+flFj91jA2/TUcYPyk/S7/luZe/vg+HvQXelb5XERe+hMKuPyaMkr+ODKq/J8VkP9v2Fz8+"
        "1DU/gogXPyJAuL4n7RlA5RiovEqyjL4+rAe/dPz1v64Y5j52DBU/3IAdPyeG4byYGW0+8907v+SBdD39axe83Vu3PixL"
        "W7/zDZu/PjVOP/utNL64b5k/pT7YvljZ2b7M4ns/86COPgoATb8UIe89Z2AWPiIVKL4b1IO/vWlXP9N5mj40aTa+YVaA"
        "P06Kyr3dPAw+PG4cv260Cb/ZvCBAdMcevtXSvr+6LX2/xGKfP0VLzr/flza/HgECPlRMKr/sQFu/xcWdv6f2Q79TsAw/"
        "ELbwP+pByj8d5Ka/gu+Vv8yXvL8CJwO+lAwwv/TFxb/LrwpAF9w0PrshnL9CvbC/XxPFPjgOYT5GHAW/EHCmP/DzRb9P"
        "6Zs/3HC1PTPfl76ZGYQ/01iHP9xNpz/Abiu/C4B/P06rP782mLE+YUwKv7eDUb98+5W/qGtjv35Oez285AI/X0eMvoYJ"
        "+Tzaqbw/0+hbv51PSL+rH5A+dT4Zvzo6eD8PEdC/ZCwVP6JyoL8gVLg/7pwBwGjnXL+fX7a/x8BDvyWNEECKnvo8hTaw"
        "P3sG0r91XIi+a1lqvqHgTL4X8Ky+lyEWwAS11r85btC/ZZBmvifVoT9nCno+//uMvpF4YD8xH98/wHR0v63aFj/M+52+"
        "BbsjPv2lpD88Wi+/WlkWv9ZmHD8SpzK/Dw9HPyO7vr8V9zO/8zgGPtlcUz8UxpC/fx+vP8bcir90Wze/KmVvvFY+GL+H"
        "C2A+lF+IP0b3dD8nqrs+2pHcPw15ib5liyy+4V1PP3pHoL9NqUW+LszSPv2AWb/Skx6/snylPo4nFz9YBPo/XSGnP/LI"
        "pT1JnWe/ublpPxiOnz0so2K+ltuVPi4pN78CDGc+QSeev1ymF0DBfLe/OO4TwBW16z5bEys+AWdgv2nGBD83Rg0/v58h"
        "P7MiST90en6+w59Mvxx9Yr/yyZy/9oNSv+7Kjj5fLcg+3FNBPhn4mD+xmiw+Sl7LvkuI67+o0BS/Cuh6Po3qmr8scpi/"
        "BF6mv10BWT9OKsa/1fsEPuObjb+7/k6+gYVGvqiDdT7o1gzA6Z8XwPs+Wr8c7TC+ooF4v46bDD/HTJU+K77HP26/jL98"
        "cSw/ui/vvlmkjr9V/lu9BTU8vj3Mg780Q2G/DL0EP6Dqtz8sMPM+3Z2Fv4FAsj62Jpk/yK1EvqL6mL6Hmr6/K1VnvhXf"
        "57zoK+8+YWaXPiQ7HT7rBP69GiFePrluuL8JgEE/GnsFP+0AaT+93MS+u+WRP4YPuT8mW4o/tpNmvS/baD89rg4/h1Bg"
        "Prxoub/LoUM/F1h3vvX1lr96Lvi/UWi2PhPodr5MiZs/o5ayv53mCL/9lYo+yiLFP3CKMT9XvdS9MZcAv+ZbLT9cBeM9"
        "OAyyvgfp6D5yTmk+hJoOvwQNYr/pn1q+qLOdPlm2P77tw789XG2/Pr1Sh78PsuQ+VPuaPw4m3j4rKjS/VqA0Pvp4S75O"
        "V1++IIOkPxMuwD7XWTa+wYt1vkvT0b7c9rs+/gyYP1HthL+zV0u/1X6HP4Zrub5cw2G9kF0DwDghwD+RM7u/aSmlPQxV"
        "U782z/G9rQFnv9JXED9vs4W/vQKrv9iD0T8IAC49052ev1cnP75ijRw/AX2Cvixrqj8D0YY/Wyp+P08L/L+y5Aa/Fm8U"
        "wFo6jD/U6xlAEPw7P63NOj/SAWe/7VgNvwmH4T4cD+G+60aeP2XTMr4CcDA+O5CQPrMigL+YaJ090yJPP9AUWb45qgHA"
        "dvcPPwnbXj8nleS8DhW+v9s2M78bgYa/FJrgPuq4Mz+pqci+6+KIPwKMDD4Lrua+ER5uPojQsz4Ubhk/AB++vushqb7t"
        "LES+x/IVvo/U9z5yqK4/40YJwC6R4T6xrSA/y0SHP6x1r78ydl89osSvP3vyfL9oUTa+pQ0YQJ3Xvj7CNwS/cRdPP7xM"
        "+L15W5E/OUyuvpo8Uj9ca0s+rg4vP3krrb5AoADAocp/Pl6Ssj7x53E/bqSePeWuFL4RoHi+6jmWP4cgd74/xxfAiCcg"
        "QCoYfD/G9t8+jfKvPxQC878hoJC/fs44PtQf1L0PSxI/s+Spvh4EqT6bgls+SsVQv7a7Ob9j06E8mHOAP7vqG79QmVe/"
        "iXt+P2yEsb+eQKs95lDpPijxuj1AFYy9NBRTv4povT4mgs8+j3eQPU3rlL9gEng+SH73vwd0hL+ZNRI/BN+9vuLRBb7T"
        "fJS/Zh3vPoQiNL6dhma/+OhJPjqUK7+evaS/ew4wO2lrtz9Nka0/S9/Pv0Vp3b95kri/ZAGZvl9zh78IVlA9+5hFPs5Z"
        "/r7Rt0K/YmmDvyWaYz+Jymk/ZCdYP3TLCkBIisS/WiS9v/Gzpb/z9Nu+Nis9vs11gj9wnmS/xW/kPvp3UD8kogA+0jI9"
        "v91NMj+0QYA/VMjnPm/AHsCzY4i/wxKwP1cOrT9252C/+GJnPyyqOr6EYZG/vq8WPjjc3D2YZ1Q+Is+rvYjTUD80c4c9"
        "crUhvrZp6D9wTYG9BGOGv1VUrT+0fAe/KH+yvgPEjz92RoM/a44+P1v4jb7YBpw/l61Jv2W4RL7rWOQ+rgS9vWL34T8s"
        "zcq/WYeDv6Sn1T8MNtU//fiVPwv1576QNEM/hU6BP87Avz/sgTE+Xad2vYzMNT5KWFI/FDSpv+vu/bulpDE/66oyv4mb"
        "FT/1KQvAwO++P5rMRz4wdCs+2iKbPxFJCD29iNi/uF8xvxnVdj9YfPs9koTgP+0vvD+vw2m/wPToP2Hoob9LRuY/hXqu"
        "v6XcTL+riYY/fLIIQM0wG7/7JoO/a6vfPxWwFL6oRRq/jjwhPxoHQT/EOYO/+O3JPlnI4D7SvYK+lTPRv3DUYj+dmKW+"
        "gHkQP9OfMb9pN9W+SpZiPmZGlT4cQZG84CchP3WTwD4dPrW+azWoPndWLb+4rny/jMlIPox9Ar8DIZS/sfqePmnMlD8u"
        "5SI/wdP/Pi29NL6gxOS/ytAAvz6NA78zHdy+wdcNv1uHZb92bsY/Uf3ePViuWb+yRNO+JP1FP6ECz78smig/Hh6mvzUE"
        "XT+ZxJ2+AKGUPo9anr8oNHe/32Nyvrice79TE/W+KcDMPxxuhr8kBt0+zv3nP8HrnD9iFEY/q45mPpf2+b46CA+/xDmO"
        "vlvnar4UoE++roM/v6h9mL8h3pg/epaEP53loT7wjRy/xx9kPifw1r/V8T4/2jKMv7j3/749Bzi/VtYGPljcm78KwMC/"
        "ePtxvgBYIz9Dg1s/SVpSvXIHkz1jH4q/D+lmPnc2Ij/iY8Y/KeklP8JWAL9cYPm8NeGGP5vRXz/V+mw/l/43vza2Ir/o"
        "0ww/VKIzvwLomb96dGw/uyAmv9PEu78rKQA/Sreuv1ZBLz9stcS/JKhWPiNvf78JcNC/OSQLvxab2D72Paq8UpHXP/oP"
        "lr8bfZW+nA/Vvvw7pr5zhpo+87dMv7+I8z7PzQzAJZCRP50S5L4xVM+/qeJYP3sfGD8LPyg9pGnavyW5fL+xlIi/fG5e"
        "vwMV67+n3rq/feyZv8pFu75TNSM/+YAbP91Dmb+OMbK/BioWP0Nk7D9V2kA/7a93vl7d9D2QBPU7za0avnwA4L3dN6++"
        "K4ikv6i2ML8Hjla/I4esv6WKBL+0mj8/EggvP3zVm7/B5Mu/wPbGPyDI0b8g1Ky/klI3v162ZL+jOZo+Jd4lP75xkz7c"
        "0j0/SYabP6XWmT2bAAA9wVujP8JMjj9FanI+hGhMP0a+879ylOY+/doQv6UkGkBSDZ0+qFxHvxp6mb8xxNW/DhIzv7F5"
        "j79wq0I//zorP8r6hz/vYJG/gMsMwLGZt74X/hc+43J0P3opHD5+xPK+FXWzv9N/ML+KMtq+Sr5OPz79wr+c+ro+lk9b"
        "v8VqD79UreC+SH+WvhNmDj92vT8/YlsXwJmjnL9pcZE/YJqcP2Yfgr+GiSY+GJKEP2zZ5L5gi1i/iEpZPOPoST7BBt6+"
        "8dXZPcB3AEDaX1w/puDvP2vrIr2DSqA/+iekPkk4GMDrb7u+uoqgvl0gJb+USbI/nQLKvppM/T7PO/4/khwRwJevpL/r"
        "hYe+cfCJvlL7jr9YBuy//NYLvxwTND+VuOy+aRcnP2tLqD8CWeC/BstlPz4R0b8RchJALQQ6v3PuFz9yDF4/sIUNvCbm"
        "1j/rd5k/mcmpvenmjj8Whru/p7vDvkTMgb7Ndky/I06vv2wEbD+6JaC8tk+1vrCnG8DA2N49KrBIvy1gP76vwFu+hQB6"
        "PxtuEz9ZnG4+YL0Vv8eP/b307BRAqFG0vzRHmz8OJh8/DycavymXtT+RApU+fsxMv8ukFr96hQi/LfdWP3Biob72U/q+"
        "Edn+v+1hw79S5oA/k8e4P6hDUj9yLZM+BIWfP54vB7/KK0U/sZdNP6WPM78gPK6+xb+VvkLRDEAE3V09NMwgvykAyz94"
        "/Nc+cgUQv+D1977R2jU/x+QaP1W+kr3rXu49954uP6tFBj0NooK/z0gGwGvzmj/+sDO8eDUcQLvg27+JWCA+dJNxv4Bg"
        "rr8FDky/ElZXP+3gAL9xyKu/5ESCvmBGlj+uJRq9UhksP5pDpz8GKce+w8l2v6zY4r1UOIi9WtfZPtIhuj1qqgy/SQyd"
        "vfjXcT/uwp87eeKJv53IJj8MP62/i2SlP8xSkb4ysPa/6Iqtv2MYWL+Lb32/SUewvxg+6L6vHek9z/Y9vmSZbz8ZVSJA"
        "X52APynfvT9pJyw+RQSwv7drB0DE3bC/tbHRPrNdRD1Ofms/GKIvQJ9hnz1m9PK+oVlwv3uiob8n13U/KiHLPkfIeL/y"
        "4NW+e+vpvhMXyz5m6/6+L+pwP09v9j/w14S/9SLLvzXbbz611Eq/DksFPzdflL4LQYC/vCzMP4BQlj91Rcg/l+ajPt+1"
        "DL9qUos+jnboPik3AcCCzTU9BsZQv823or7iD5C+mrP5Pyxy4z7R0LU+pgKbP+RRBj/sx9k9OMRlPq5bC8AOC94/xx/l"
        "vaDLvz5JVcA+UMI4v7JDjr6GPKg/33vPvsgNQz4Hge6/v1YKwLW1Yz6i5Fo+AxH4viEI6T6X4qw/uiIiQB+9Jz83HKY/"
        "pdBcvwkweT/W2ry9VVkbv6DIdrx4in2/u2DzvgDj4b7LFk++tTSHP2/SFT7nelM/BYOqvzRq7b0N3i4/P2WIPqP2GD55"
        "/ma/CJ+XP+SAK7ui/ym+HAUaP0S9qz4IqS+/nQZdvy0Wlz+VDwQ/j6o6v1dplT4rda4+dJw8PRr1zT/4xrm9xRYav2nU"
        "oz6eVRY/plsqv8qD4j3yBNI+msYuvyHcjb8mooC/fO3gPtJcBD6uCKi/1wE4vxT0w7/ftye/1vGkvpFAEb6opq2/lJjl"
        "P47Wjr5jN/e+VcysPRD7CkBWk6O/G1SsP/0N+j1eERPACVukPyI6Ab9pjNo/8E2Fv/Kczb+R1C0+uMuIP7o7GT8V5TG/"
        "HKM6P3oqhj+bNZK+Ce6HP31xQ786uUU+CExHvjG5Xr/ARSs/4L0pvlI70D4RMwQ/Q3zEvqaiqr7JNLm+CFuyvnBXrL+7"
        "z7q/XPxKv85QdL/eALa/iIRxv05Q6j/IATK/B5qxvp4vJcAxjvU/7/XxPTbcgr5bQxi+To7Jvy8kjj1FApS/H14vv5/c"
        "RcBnWSi/BSkaP1fjJT/czCk/BqV/v1djhz8O/NU/laMJwJLcq76MP6q+6y8Lva+ZP7+tBzA/LcCVvhvHuD8LTgrAbUfQ"
        "P/qRJD9hBJs/71zBv+Fc+D7yBXw/EjZpvxeZ8j6mu6s+Yy+bP1Tr4j6Cafi+0KtXP7hVDT/q3mu+KdiRP8N5Mr7wWFK/"
        "tFLzvqg4Gz5UdIg/MivBPnZZoD+WIMg/5Gwcv7B7Db+Hrn4/SoqjP48OeT7QkEW/NPyNP6nDEr0qOp29gICOP05XVj9k"
        "Gxm/Yq6oPNRVn782wi4/ygV1Px4xoj88ma8/94iUP9xpLL8Tz9s/dLsEwDjLb78FsCc/wOjjvoiC1T8R+gtAZx1jPxYe"
        "zj3TUsQ7X5bhP2lVir3d5UW/VcOMvqKxtb6XSOq8PrEZP6w1mT6EHUe/wOAUv8Nvt76XAtm9/lKlPxB7XD2Ka4G/acGx"
        "PaNyuz+MXdq/UOfiPtfgHL/E9Bk+dIdovrcc3r/PWIm+pAWMP1kKUD8sKIW/LfujP4XZBT/9Qsy/2ZMrP+pFrD1VdsS/"
        "hxwcv1Umaj9uPKU91eyTP+4EEcBKrfs++bxxvyHtkb9ZBW+/nP0jvxoAkj47P649GTe4vX8TEz4PSQo/IORyvjwmAb8u"
        "Eye/iup6vAbqTL80V7k/5RPnvv1pLz4qBg1AObgkPZC2Qr+kTT6/UWO8P+EsGL+uLnc+FdA4vympQj/s96Q+1DXbP7Fs"
        "vTxuT8Q+nb7ZPnBhkb/h3Ym+vMZMvhtHRr/g+5O/mqB6Pl6Spr+X4z8+B63Pvvr/Ar/8B0O/bBjZPxU9k70a2jy+6S1q"
        "PXL4CMBqbZQ925tDvxw3Oz+rP5E/+XK2v+TD5r4Wx7w/bdp9vt6uLL8Gfqe+nqc1QPqGUr/U6rG/GRrTvhz1xj8="
    ),
    ('erf_inv', 'float32'): (
        "ykd1QGicb0A/PGxAB9BpQMfqZ0CHW2ZA/QdlQF7gY0B02mJAOO9hQKkZYUALVmBAjaFfQPb5XkCHXV5A1cpdQLZAXUAy"
        "vlxAfEJcQOPMW0DQXFtAw/FaQEuLWkAFKVpAncpZQMRvWUA3GFlAu8NYQBlyWEAgI1hApdZXQH+MV0CLRFdAqP5WQLe6"
        "VkCdeFZAQDhWQIr5VUBlvFVAvIBVQH5GVUCYDVVA+9VUQJqfVEBkalRATjZUQEwDVEBQ0VNAU6BTQElwU0AnQVNA6BJT"
        "QIHlUkDquFJAHI1SQA9iUkC/N1JAIg5SQDblUUDxvFFASDxQP07aij9hmKg/TvLCP/zP2j8Hw/A/w5YCQJkqDEDENhVA"
        "7c4dQHcCJkCC3S1Af2o1QGixPEAwuUNAvIdKQA4iUUB/jFdA1cpdQF7gY0AH0GlANpcgP+KVbj9RsJc/peGzP40dzT86"
        "IeQ/YWf5P1KiBkAh+w9ACtUYQLNBIUCBTylAxwgxQMJ3OECxoz9ADpNGQFtLTUBQ0VNABSlaQAtWYECHW2ZAAACAf/4w"
        "9D4AAAAAykd1wGicb8A/PGzAB9BpwMfqZ8CHW2bA/QdlwF7gY8B02mLAOO9hwKkZYcALVmDAjaFfwPb5XsCHXV7A1cpd"
        "wLZAXcAyvlzAfEJcwOPMW8DQXFvAw/FawEuLWsAFKVrAncpZwMRvWcA3GFnAu8NYwBlyWMAgI1jApdZXwH+MV8CLRFfA"
        "qP5WwLe6VsCdeFbAQDhWwIr5VcBlvFXAvIBVwH5GVcCYDVXA+9VUwJqfVMBkalTATjZUwEwDVMBQ0VPAU6BTwElwU8An"
        "QVPA6BJTwIHlUsDquFLAHI1SwA9iUsC/N1LAIg5SwDblUcDxvFHASDxQv07air9hmKi/TvLCv/zP2r8Hw/C/w5YCwJkq"
        "DMDENhXA7c4dwHcCJsCC3S3Af2o1wGixPMAwuUPAvIdKwA4iUcB/jFfA1cpdwF7gY8AH0GnANpcgv+KVbr9RsJe/peGz"
        "v40dzb86IeS/YWf5v1KiBsAh+w/ACtUYwLNBIcCBTynAxwgxwMJ3OMCxoz/ADpNGwFtLTcBQ0VPABSlawAtWYMCHW2bA"
        "AACA//4w9L4AAACA"
    ),
    ('truncated_normal', 'float32'): (
        "vBO4vwzPwz+6ScM+Y3D5P578Fb+m2lU+H6qev0zfmb418Uy/F86Qv7zDIT8b2YC/Ti4Fv7eaJr8jcOw/Xbydv4H4Ez2/"
        "7F8+kpo1P6u/Ur97PM4+dOyEv5fiPr+tQaY/K+3GvlMAIr/JCRa+lpweP6Wr5r7SNRu/1tTZvtX2ij2Tudw/ojlGPjgt"
        "eL+VCpg/ZBKtvk9siL5BDHc+P0GbPirDfT8jkVk9tF43QPjkfT/mmys/NxqXPuTAu79bKWa/yFmzv0YdLb6GM0g/Ip9w"
        "vyk8Ez8PYhy9zov5P8MXpj/CLijAB0Amv0BR4D4ohE8/vr0UP/Ne8T7Xtp4/C8KSv3M6/b8uoSg/2wPzv5iajbvuMIw/"
        "ZrGxP76YS710Swq/LH9bP9PEED9pzkK/FUOMv+0aT79d6qE9GXBJv3HBbD+6kHc/6ofOvyoQi7/73zm/DaQMwKVsLMAX"
        "Jwy+eqMrP4eCH7/5O4e/TL78PQaRND5ALna/ay+Fv8lSlz+QwC9AeXp1P+GF2b/o0Mu/JLJrP+Rywb5Sk38/KegxPw53"
        "+D920ac+TEqav9CjEj7Eau0+N3yIP2tJjD84bpe/fzlFv3auEL/3uwM+WEFTPxHZj7+EYqI/Yz4Ev7y5Ab8iQqI/2G9Y"
        "vnxtlD+Itza/ACYpPpxZPD54j3I+ryq8Pq71lj9UYOe+5gkJP5SPB0BKpLw/2XrBP7kWJEC7g7S+RSDNv8VWBEC85U0/"
        "qOqFv78X0D7CV8M+g1YRwCtIwD5TxIw/Dh5tvhb4UT9M7U0+spyPvx6F/TxJv4Y/s1div1QQBD711z+/o3WKvYa6ZL9o"
        "1ue+IsgYQCD31L2cYj2+LBX4vyWujb8srvC+EWT6PzR8lj+vtwbAzVeAv35b4z8CqTc+gqvSv2mEtb/w56q/Hj6Nvx68"
        "ir/LXyS+A+xfv3zcsD4EUpc/FLa0P5tEkz58Ram++ZthPUmYQ7tca7o/A9qBv+BRdzyaVME+Y31FvVeqcL8D7cY/MJfc"
        "P6fywb6bLNi9PXWQvUYZdb+l+UC/Heznv0VK/74ZQRE9Hxg9P4FoD0A="
    ),
    ('normal', 'float64'): (
        "HRSaBAlZyr9KexsezRzpv5f3HOawDv0/q2kQykULyD98Q1rowbO0P38X98mp0Ne/JGM7HukK8z+zT0G3UKzVP5lFtYQl"
        "t7U/XLmHhO7l67/i35xETN/wPy5UgxG08/i/eUwGucSF1z8TKho8fSEEQGtsYd1UjNA/sihXxk8o0r9y7zDiohXhv/mj"
        "LXh0jNc/Eajb0FoVyb+aPH/TshD4Pzf1kzatO64/o8PF/1Ufwj8vUz/kRyHIP5WBkwPo7Kc/ihMIbaid9r+Wvj5mj/TI"
        "v0OkjtryzvE/cLFMhvnQAcCFFt3lyQDiv5wITP6BSdM/EVaZejVy8r8lN4Y0UbeKPxrKk12HevQ/xppTnbJDBMDxXseE"
        "Ukzvv63tDyGCh/a/kisKWsa98r/wcyNSMPHvP7tivVzUHNu/F9QOkO6s2D/953vH14Dgv9dnap1la5i/KsnG7+mU2T/A"
        "eNNgnh36v0UTB7vMybq/Ja3p8hpb5L94Kxrx1kzWP30pr9dwrai/jt4aJZhM1T9Vh4EJlynyvyiuDtd1sv+/kIWZG0vQ"
        "5z9KlEgZBKzvv+lCCqMg5KS/SVBhrbNYA0B4mIIA7gLqvx2pFH7LyvC/qt9UAY0p9L9pZ137NcHnv7L2En676OC/JX2D"
        "cELw1D+1UMGy7DSzP0+bIeo98P0/9u3kppza5z/6rpg3Qt30v2t04+7O/sg/fPyJrwEP+T/y3kxJwc0BQPekG1/RAPG/"
        "iYKDxIDu8D/dSNYC0WflP9KMKBBxSPy/w1otr1zfaj9PzGWK1+/1P4+Mj4Jmjc8/8qSpQgGm3r8psSIJ1vbRP/xAuRWD"
        "sf0/MG0RnNpY7b9QaeW91dTUPzKSmIX1Ifo/4DaF2S3leT/B4PUuzdvwPyRF909/sui/2y2mX9o03D9vmfZkhI/0v1di"
        "TykUkwRANmJHwR3n+b9KmvEV3YuwPzqC5lMrq7k/XjbwVd8u4r916Q5SnGXlP6Kt0csqSu2/nf6MW5nf3z9QxqcrwhXl"
        "PzjMOk1TY94/Q3qlJ/Xasr+u/Pi1ci7bP4OVaQys4eK/XoSsNZyA8b8UL4r8fkYEwAbQWIs3ffc/7jT9nceJ0j8fhPt0"
        "ILPdP7lrgVqU77A/PTM8ciq/5b8MYP8PqZmhP5WZqpVNldg/EXr9hsBS9L/VPJYn0IbAv4KgonXdZNg/AUynqzeD1786"
        "DaZeCqnXv7EpUdzuX/a/neyFa/ki4D/H4oYQUDzAv7yVzyQtF+g/ed5n/Liv4z8rjVERdLnfP7ERZxNVy/u/BytnDrzc"
        "/b+N+Nb5Fp29Pw4z06Pa5/C/2Dznpl/orT8DfTHprLLiv7/a2TBi+eS/4u4FubSP1L8EpF/PYjkCwN9XPzaJ9fY/dsd9"
        "LwDp9791Pffxo8TlP8cFqvSCVZK/Wq+A3B3F4L/F1H51G0nwvzuA5VoIc9A/jkStXizQ4T9q5F/I7NW+v2Z4fwZysOO/"
        "Jst1EXge878woaT3TBEFwLnLS5VT6Nk/7lXs4xsF7j+7mEaV9eXgv6nHpyA639U/oYOWGtT+xb+p2xfaZvD1v/j1knw1"
        "VqO/I+GMx7Jn+b/ZUByTD8vpv2QOKtRiWu0/VNxxzw7u1L8IcfykAD3gP/xkNXtXl9Q//i++WtZW8z+XK9Ud3N3rv8Fe"
        "NgRFvNM/bAzqu2+C9b8WEZ0E46Tjv5fQejpbbsQ/3lMgl0FF37/plLU0BqXOP1a6bkWkAvC/+4q8XxoB47/jIYXHE9Pu"
        "PyRlzeY1yYe/ijE5cghu5L9uxeqR2pXnP8zL4mVCKfQ/5qlh3JXfsT/B5vv9Kk/TP37yz2OpCgDAdd3Xdz9i+L93j4Fz"
        "COvVv8TuEIwd3eE/19Tsetj0mz/SJSjLvXizP4e/BkatH+E/D7QV/BZqzj+ivwidiXbvP6VP2+9xaPW//VFHync4+b8z"
        "+LYEERjYP7hly60rQO8/N1QOgcA6/b/15vKpAZj1P3TOZJA9hfw/xDj1KAsX5j+R/xk9QJzrP0aAlP8Bvu6/FzmGHsf8"
        "AUCUGwG+Lce5v5JxS292ieK/pZueZxKYuT8sJXPxW2jkP/HY3jEIcLU/LwoQg6fY3b+dWSpikvXtv/2kltNGWL+/k3td"
        "rB92AsCE183ZcsHNvziLpwR8IuU/lT8spbZG378n1JwbvYTTvzXtCRUkLsu/AWpbYbJZ2L8SHVd++vukv6o3vJg04OA/"
        "S4Va4psrAMBsiTcfvZD6P9cJSHucKtw/vVRbonV3tD8TVdBkYpi4P357C6JcoOa/IfjYSDjQvz+EMtY948W1v2yZ+pwl"
        "5QVAxm4XYvCeBED24vCFFxjwv3l8c5AKYue/G9PkcpQa979hbfEUN0LhP3Wx1YW4xfE/4FUdrKBq67/TrhZes3ryv9+M"
        "NxmUQbO/Kd9XDXP99r8cVEd5SArhP/D5NeX5dsi/YNbDmc2u778iwEqcQ5brP/+OBgItUu+/CBQl/gKu8T+GC16Atn/a"
        "vyrvIHzMOe8/cmgrd9GN7L8IJJi0myGBP8jkHHmJRPk/ppk66XUO0D+Q8nc4Kb/hv0xZJGJIMv0/WeG3WJOH4b96ywVD"
        "fjPOPzMQTIe4Gfc/b5pDgOqO+j/JTky7W07mPymp0OCe7Os/39yqr+9/9D9Zt4bvN7/tP/wxgNDdcLq/9Me883f44j+7"
        "bh+Z+vnXP/fHcBnMbOq/ydNH3jgOAUDwVa3WM23xP4rmSPzPjLk/c6iQeFdt+T/p2dI4wG8AwC1M3evW5eI/cmiHlon5"
        "0T+q9zFteTi8v+lrszYn/+Y//N20OxOv6r+ZPv7kcpj2vxLgQzAKS/c/mteAaMI+0z+6wY1tn5rnv5bDhMrYF6S/AUOQ"
        "RSNR1j9466hNK7frv0bvfg8KuQpACYFrVhJ46L/w5QIOCUb0v6U79TiCes6/eR5mJwwR6T9A3zXCZWT1P6imhGy8DAfA"
        "g025K97Y4D+eevkdpF3zv+M2T3SkYu4/AqIBGsTw9r93qLpqDfvhP5FGcDOeMue/DZNGuMl40j/WEYz3r3+Vv8lQmlxX"
        "3NW/GzotYWrx179Um8DKCaPvP6nAZgugLss/iI85gSuL8z8PkUHsD8PtP5gkbvRKCN6/NMDyAiwlwr/6jl6CG5wCQJmB"
        "QCUvG/M/Xv5+l2F7ur/bwmM3R97rvwPpLyw+v9i/dkTFC10n8j/5hcpqpR7sv5XQyKfPz+C/RNcSVqFtsT9pw2DkTS/V"
        "v+lEuOh4dsm/jUFfngXl+D+OMWaAN9jfvx7HIF4kPNs//TKiZk2g4D+vD8u3bI/9P3Ge2zktZeC/wbDM2VlW9D+zESXA"
        "7GvzP11pE7Rc+Oe/UV2RmMCT67+nEkQcLvWaP50SXM7bW+w/sc0gJNck679AzebPu/f2Pw77FqnzQ/G/jo6WBAkt4b86"
        "SkEH90nqvw1OoXUaZuo/LPjMJ1wIBkA88ym2fgADwFt749K3OeM/EdAO1UwP6r9668+ZWE3pv+v/UL8sO/I/jTH5znkQ"
        "xT8381fsa/j1v6tmjS1bCvA/6jKFBOu+6z8GsB0D5wfnv6IT4WvZHek/MVowH/z30z/okP07FEbTv5l6Qamb5uA/bd9i"
        "uL/WzD+GrIqDZwfUvzJ1b9eHmew/D2cvPMH5wL8ZTwK5HIz2P6ByBON1re6/paDLyLJB3L8giQenkdjtP4MxuVu6fuC/"
        "EitIrhzD/7/vjsho3mPmv9ldb/Nxzvo/SyODIXuLzT+4aeUOUcDmP27TNAvDqPa/g9JlwbyFy7+hme16qDbzP5T3ZuTb"
        "DuS/Mo+0OaZh9z8rcn4wTaTpP1ZqA9t5weg/4xG/lTGQA8AhHsV066quP9W5QA6s9dY/eEhyqbyn6r9vD65Jn8W4PwrW"
        "ZsuGivG/pZwihg3I17+cKg3QSjjHv80+72zLEva/YMyDESxC179s6wbJ/g75v+JDyTn7yMO/hGnO1rZ2vT9H6vVDBwru"
        "P/0p7q6t/NE/rjvnagwDx78gyRJJkEbqP69p8i3dK8A/mjoN8a0M4D/eyt16NOj6v2DKBrZGUug/cZ3lk/hW2j/MzBA+"
        "SzX5v1tWhckRK+2/OpgO+Por2r+c1IVAb3f5P298PfYoTb6/DWFEr96iAMD/w/8uBkDtP8sk7YHBNOc/1VCc+8lL7T9M"
        "PaE2e2zIPwx1sv3qYdu/v4mdQSXMz7/4/XDgaG/wv0oE4c13G+8/V0yFBR323b+P9mvS40DmP8M888r+b/Q/j3TkqoST"
        "579AeVJTeCAEwGCan0YRuOG/gyO54nqco7+iFegTbVrdP3yQMng6gOi/OiT7NC4c5r+YphGxP2fQv2vmGrh8Xtm/YO92"
        "Zyo22z8i8S4VZLy3v92pj7WRtfK/sVB1SlzUwr+p6u1w4hKYP+W5bNNEasS/CLAYxZVc8z9ZZ9+hDuTsv9Mr7ctC+9K/"
        "REkkPvNHtz/NzHpFKankPzTWWJCtTfK/+x2HsYTS8r/t4RJhq+3VP0tB2WddRPo//uUhWg0T+b+XbouOAFb2P5v9UFSW"
        "bqk/EIIXYu45zr+i0R2lNeXgv8wPS3Q9fsK/KxGB4I4Kvb8oYMl6aye5v5EoXUIQzea/HG1BZIzX1L+w3bmR9yL7v7+7"
        "LzQYZPc/4Rb5Nf5gqj9iUFpfR3HnP/OwQpvtS84/t4cRg5iT9b8kaTnjisbVvxovasVcQsI/fxxxzgC82j8ZxELJ0Wz5"
        "v3hzAT8ap/+/RmO+9kDz8D/w17D9OLbwP89JZZBnxt+/u/ab8L8L8z8jqzggffbyP6KWM9oKPdo/aQ5VCT4h5j/i2L7F"
        "o2zpv86pYiW4h+w/7l1MDrKd0L9vnQX8PBz2v/3WmhC0wOM/+DHIwOmcxb/ILQQfrDj0vxF4rOl4b9m/1azFRGoM9b+Z"
        "j4jUsc3hv/JRG/akve6/N1xxyiYo4z9vAWvohNHbP4Ik4pS8FPS/06JRU6g2/7/5A72WQnLQv2CD7v4NXrI/6Fz+J3HJ"
        "8b9mwxFHlOr4PwBTMiP2xZe/dQAX/0BU4j+ZPI+S1qXcv5lhggnA3cW/M1Rib9AM/r/0CwdXKRroP06u0GEP7OK/Fijr"
        "zY5t5r/1TcREzUHxv3dkcdDC2+k/uVSkF/836b8C8M8CQ6jUP7BDD9hSBPk/QpUd3wAZ9j8DQL7eLxnsv3nqoVXHj+C/"
        "Q2aLaSyE7z/A+cP23k3ivxctklUH/f2/q7c7nZEw7j9uFNTB3D7wP/7o0hvar+u/svLANv8U8792hHEgxy/qv8qwYjPU"
        "4vY/7MTG0iXI6L/wawQsOuXvP4q5ZRH+uPk/Ud104wNt47+DLldV/S/6vwGvtslGneu/FvmRWikl2T8XurJkPxbovy9L"
        "zzjU8vK/Li0KCVi9vb8qZK4QtxrGP29rSKpCou4/RDGFc4+n6r+Lr4FyExvmPz7d3G20ULM/lpbaiAF36L9csGVEMe6p"
        "vwYLLQC8o/W/Ed5PhqKM7786LWyf5erxv3K7XAcNa94/AtBvvJ384j8nrv1gKoD0Pz1G1tJ+reS/G22JRfr85z/8PI9G"
        "POLev/QM7KgYxvU/FMEtsWTzxD9vPB1uNhj0v2s4Mdbr1Pe/I9Y3ZbKC8T9rbZOcfa/cP0XIh7q6VwJAYETXgnZ16L+O"
        "aaveTZ31PyfUdVrcFta/bxUBp/t+1z/Adt0OHea7P3/8WNXCD6I/pu16WJBM6T8fxWrckH3hP5NtiGtQ1gDAe6YnFnjR"
        "BkB4vQhQIgjxP9atnOJiPdS/uQLLwvP+6L/zFF/qezXDPymLHLSapARAMUX+Zke94r8cc8DaQDj6v6PvIiUXouG/lwaO"
        "P11p8z8FHQerDNGRv28Bax4/b8g/1syI7YK0AkDIIXTFdk7YvyOZblZ6o8A/as39Wd1S4b8w/j91NE79v+2GDYnYAPM/"
        "+tyQO7kckL8fkMQ9iID3v13gvYPje3y/Xr+kztOR9D81tiPRrX3gP8Z17VQ9X+O/pp4iVsx34z8oH7IIZMrLP7UbkufP"
        "/uu/+qYbESaV/D8JTSecTubxv+p16sy9yeQ/XXlajhEosT/SgLllQrrQv6XdyvvHreK/DVFRgVdC5L/I88h40DLkPxKi"
        "ghRJzNQ/SVGaYQUK1b/IN6Uk45z+v0WzbaN4Uv2/X/Et1FIE+j+/kYdetODhP8Cof40ezd6/8Ex0E4f/3L8wIQBYHJXA"
        "vz73cvZeuJA/XKMni1hM3D/t1jiVJEHyvy4sVn7UtPK/0w9vhm1vBMCEAk3WD4XzP0cvAF9Ptvk/CR2e0wKh4D8VEo7m"
        "mOTRP07qHyou8fg/+mKtz01vAEC6Jh2qmzz+vxDwoiw/SgLAk1IB9EFC4T9H4bdjoDy5v8ATxlE58uY/gvYrc7gn37/h"
        "symmG04BQPcWZqwX2/e/G9Grkr6tlj/mAaFno4LjPz/5D/HIrOy/4yRdekxh9D9T0AmZKFjoPy861pS9Jvc/83/3VtN9"
        "8r+h7ww49+Hgv8wWz7MeVv0/oPxgIp2ft7/lUP5Ftzz7v8UTXxeNpMM/g6egmh160D9qxjq3OhLsvxYMxzL+utm/RE76"
        "ymUy4T/aP6YCkH3Iv74RW+PZYt8/G0jQidzF7T8EEefo8Ffzv5/uFopLme0/8ygzircw57944TGil8jQP/zTsGOjQbU/"
        "jrd7G+dm97/kwAlmzpjTP59KfbC0x+4/WSxWUkDG1D8LGMixa5TIvyewg+xdfgZA6s74RFPiqT9GMwWPuKLgv81/3xzE"
        "0+O/xUebyolA57+aHmeFWbX+vxF8LPyxI+S//0gE3iNM9T8PZVVPttjwv483iY31AuE/3cTnj+/42r/NxBIiO7D0v3lD"
        "Zryq+8A/r8gmqiHQgr8tKSxgLWX1P3lX4AvsotI/2B0DcOYCtD/gB01sPl3av9NqFDyGNcW/U4DdgKql5D91yDEV0YXm"
        "v0M1UVgNk/Y/rj6LcrkE1r/9GCw9SzrkP3M/6MwXh4i/87BuZXRppb//v9m60grJP7dsBW4K3P4/4GFL1PUx0b+hwZ+h"
        "8Q2dv0GuBZOfJNG/BdfHHgfmsD82X4+iiUX2v2JGTmExTLq/r5JxAxR7+79aX/3wzUPLP+TW+MJjseU/e5gzG7ES5L/c"
        "k3REIjsDQHfi7Rgkh/a/o/KIxDC6zD+5dJedd4S/P9OQhSybP/y/BDbdRkuY5z8bvkJSaRf0P9HxvuJVWIQ/HLiiXL3u"
        "8T+nr2ClxCrtv/oNsZvA7fq/GpaCAacSoz+HzhKcNwHVv0YAnnlx9PW/p4QdTFcFBcB+GPBnAQHwP4IeiOvZTNC/SWFR"
        "Qstt8D/pGHs+RsP1v2HnbwNIt+q/N/ZZLhGk7z82ypWAJJ/gv+DDrE31XfC/bt2NYoQT5D/EMfgsClnxv/jYtTsGl+O/"
        "X1oj8y9r2T8AibEy1afYvxez+/QFwQzAzxUfzxNe9L/zNlmjYAndPwdjs2rUlva/IxeJyjjh5L+sszwL4a7nP1NyXQQT"
        "f+S/bJEcyUJ88784LGQ5xfn/v9pz+MATId+/cc0E3FSg/j+ObstZR4Tyv7mLptCq696/ukO4A2MU6r8PtyuSBPTbP1I7"
        "dtt0TPg/Y2v7H3SB4L/BLPS1dJ/tv9aeVnFBVPC/5OZK3bmN4T9nf+vD0OrDv/gEjqiZBdC/Sa+B9nEX5b9JsvSatbfg"
        "vw5s2K3ZWY8/nb4+sS/U1b8Ek1y3KDnwv8ES+vQNn/O/6I+PHJxa2j8a8zrHrEXHvwb1i/Zy8ss/qIlV2h3U0L/fcCO3"
        "7nLnv1J+G3UFEgHA3d4Xx9zB9L+EYeArWavxPx95otUL2OG/Wo0B8m1Xs7+d/vpOXBQCQIYKK1z77OK/BCXRUBsDuT9W"
        "c/pz/vLSvyordLSWu/O/U6R6C3ma5L+XZhzdkLHLvxfaU2OMLgNAIRpQ8IFI7T+a/MUg4AO7PxOhydFvoNQ/DUTmKxVy"
        "AMDIkwt08Kfiv6CEvDGsC+S/vJfKP3P22b/NcO5T92b1v9JwHSauze2/i1sF0daR2L8UpJ/0mrb1vyACuAYRq+E/CK7c"
        "c2It1z/a+TmvtyLVP9rv+VnLHnc/85N+aYqltj/Lf4Heikn9vwt2osyQM/G/xzmP1Nzo4D+brBSJMxgFwMoTwc5bL7o/"
        "Yn7TIKC04T/fny66orDzP/ewdW0kIOG/BHVGHjJy4D/EIRXWYu2/P2/lGaTGx8G/bKfNeH4v6T9aBgfhsCP/P971v5os"
        "Jf6/+h8RUrSY778NxCAI9KLiPyNb2DmuEda/OiR2fb6g/D8LyG/aClr2P1YRHJ9cFfq/NT/JAoYn1r8NpBs8KIe2v2zv"
        "JqWlugnAvDi5GL1L8r8rAe6xGougP7ekuUVs5fM/WdfU43Zz5j8l9f0svszWv//S5ukxudY/zyPreAoV8b9Fl415oCnV"
        "v9veOPrls+o/Y1IWv6WRvz/J9tsscKfYPz1iHaXdt90/D8Ch/SiyzD9E9JpN8LnEv+ge/MG93+e/kZ1kI7Q7yT8ZCrQT"
        "W3nJv6TQ9Ne1m8C/DwIXlwIX1D+uV8b7byvGP6RZ6vPeUeY/R1oD4B3R2j9OHzym0l7AP2uMqPVTbNu/oLWBAjVZxb/x"
        "lYyT2WrnP0A7M7QPLpY/+61Dhk9QuT/oQwzH8ATYvwFK7HQqHPk/vPcVDlxt9L8Y01jRtf3sv8DcDOfyXOC/0HxNUjlM"
        "xz93pIieBVf2v0PIIDE1K9U/zRkD/FHH9j+bsEUWr0rtv0R+sy+YK8o/z+ThmOmt/b80wJushD/5vzlESCQKQ7m/RWzV"
        "a72E6D/A40GyjIjrP9qfHDqI/84/30qI85VVtL9PNkUQVwWzv5g5x+f7W+8/kbqduIEZ6j/FdaOKNGfUP9/wwbqdJgFA"
        "iar5Us5Q8T9Uvwvqff7cv7yjTab11bs/fXYwpe/V6D8vDi4eebj1P1buPsKL+vy/1A2Dyc1moz8DW6ejldL2P1VJ3zDz"
        "Js8/suF0KCKmBMDcGNt5bdfrv/6RkLhLOtU/+GhIfSAlx78W+JnLYiPCP/C6GUE9fOW/7WtbeJ7S078X928Z+wvov8NG"
        "l9L1KOc/6sZ9fsoM8L8bEFrtz2zxP4o2PzaB/uA/F6Mux3PP5T89ZY+Dgg/uP436H/TohPy/SYnwYLbmv7/Hr3CQadUA"
        "wPoPSbQz97G/AxQbKZwS5z+eybX4HA/TP4LpiYnE2Ne/6Sg4tCBIuj83RaGHrsHnP+Z3/JrhYuo/tfoTU8E40z9v/cc6"
        "8knEv2IN8kYLHem/39qqnLG8uj/onelHODvUvy5zvAigv/M/2aVLlIgv9b9gpQjh2139P0p9lj/qz8q/zh6VCOv7+D8E"
        "Pj25Js7hv3LyFHIKS+G/F09c5hJeyj8TklQFPI3jvw3nPvvJr90/FR6Gs+IU0z+XAgFlVW/xP4EuqWE3HuE/oeytBXGW"
        "zj99aATFDb27vxlxy3z2muO/9A83qKof3D8ZPz9gPUCaPwlM5XDhoPu/0Zg5NtsY/D9bjB1zZ3bHPwGD2i7869E/4v5P"
        "sWxhAcCAOZ/KlVTnP4FYrGeC+rK/eXrDuG1a77/L3fSaVcQDwLw9IR/JHbS/FcW+r6lnxz/MdpxKMg/wv6D2QMBUbtk/"
        "1e0Brv1RyL9rOxSYjuPXP56lppGwEPQ/Hfw1Auf2+b82D/56BzTrP9sRLIV+YNK/Q0IucX6M8r/0s6q09Wrgv5TtA27m"
        "XOG/fWMVKATV7L9sTXpmfvnxPw64vB0vYfQ/A+j5YP8e1D+XuFhBtcrkv+/IOSNwA/e/VxYI15eS5z8VK6fHLBzlP/RP"
        "7HtwsdY/aDArtw+rDECmhZqsd47WP0Q03MJqieK/HRkYaIuPzT8kVol6rIrhP0ndp+M7hPU/rA/YexLP8L9yWeRcAknz"
        "v2Eaq3OF1di/jv+o9Q9Z4L/SFcuQLcXIv0C/gYXSsbe/SQOXPOfR17/C2nNlULjPP9JTRgZeEf8/kNsgmZPC379nEdMO"
        "+ULovxLg+lmAUfI/AnUgW5Dz+L9BBodOB7Xjv1rY2CSv258/7yteAGKM7796QrT/Gln/vwIxwGEbk++/NPDfJoMf8D9H"
        "JAp+2BXgv80KYHv75uA/05hMixBN9T9ivc2zCLznP10ZV5Zx/eC/l2MecoaN9z+7+yVLSMCcvxi0yew1l/c/75Ra5Vwb"
        "u78Ls3OLk5TVvwZWiFXFdPC/ONppfH0c3L9zsy6wjq7ePxLxpnzTvuE/G3U/eoDU0j/83ICWqWrOPzrPY4iDIABAcY7a"
        "UElz5L/59QkwTpPwP9yauwF9GQBAaGbXw/u61D92E/WajjjEP+CT7ZD/1OC/qwlta2825D+bNamDKihyP7eV4hsuzve/"
        "o6eUHgQl7b/l55C0bmqov4F8Z2VvneW/w6L2lSMaoT90OgKR9vLhv2VWcNgKcfq/sNW/D2Xnwb9TPCOmZUzjP+oWUNPo"
        "Fuq/oHqaqe/D6T8fHn0fOTjlPyhImwtKC+q/S9ofSZ0C7L+eTWrheGzXvzpd8KSXiABAT8bvVrIS+z/v246sWt3Kv6wJ"
        "UjNBEv+/Yfp9uRBz1L8SqQ4wKECgvwSbVnaR8fQ/rUzYDB4A9j/e34AwZk7vP6dLR+VrDvQ/X3en8t9w6T9iOHCFGrD7"
        "v2YshwQFpLE/7R8FqGXO4z8krP/wkwDtv1h6UDHhD88/SJ8acIXe0T+iGxubGuDxv/jkHcbfJ+q/5r5pJINw0j9ZIZZs"
        "oqTHvzq6p/rMWwHAYAS1EIHtxz9WQ6CErZfjPxFSZuMDVt8/+4kzO8Sd1z89SA36aLzXP7a3i6w0H84/NEp90dXw5r+0"
        "E0+w107kv4TlB0qUZua/5AEJBZU5+b9sSuIUwiHjP9EmFHN/GO0/dny90fyTzD96Uz8lNI3nvy698YAvKQDAHcaoAuwZ"
        "1T8cXtZkWXXov9gAlplupf0/rn6UWihdrT+e9CoQpdzyv8Hjy1eIEM8/Jfi6tri66z+aqZ3GpjXMv/4O76Mr3AJAM6RU"
        "ykU0vD8g7+IO+dHxvzL1/FDaIqY/2AuCJDe/6r/L0TmzznnnvwkOQU3fbtC/IMXZbzit4b/S3KcEA47Kv+lCVzcSove/"
        "w6MCf6kK7L/U7TW/AaWrP/v+cClfouM/yQuFHXttAECfhPQOl/bYv5Cb+o7Z8eA/aiJdk6TOuT8bct8N/m/XvzUA0cie"
        "G++/V9GvqHayzT/PYVBAgqPbv/9qXYbHwfq/HpndSHeh8D+MNpByBTvgv57ZYQ1ewqg/q4jP+3K/3j++3uK/JCnRP2KI"
        "yygeyfm/XqIaPZ946D+B10D9PcLgP7cDB6tYA+a/Du5DOj/h4b9HUnLYe4HTv6mZcsmIufO/k89ThI7J678c2t5Kbdzb"
        "v/W7JVxakNY/bMyKMy7G+z8nnSSG6uL2v/OgcOzb0QRA4gL0RKsR3b9KdKWDUB7dvy5kvoZkb+a/zYtBkM2w0r9jB+dO"
        "IN/Wv+Gb1EYwmvK/gDnZrNAn3r8CzX74lS8BwNENq4GQJNu/f5dJnZxYrT+5AgMlR5TavxIbubSKaeo/MLw0suqN6D9y"
        "wypYHf/rvx6YlMqbmeY/A+rHh6P60D++9/I6Rw7Pv3s83HvBOfo/FvAVqoBA0L9C0IIXoxbEv7zbUmk6LvC/IoLRapB5"
        "3z/EVKYsltTLvybx8eG+NwRA0uw5XysQ0r9+2WWBqHznPwJoEHuxUeG/t2iIzN/l8L8UU+L1lsHyP8c0RQISV94/gn7U"
        "EWaa5L9bdT9SLh7gvyOY/++uMAJAlPKtv1eKwT/QSb/EvsOzv7HS80Go0+u/2XunCy3g6D/o9cDU7CbQv+9kdTE67wXA"
        "g7VxqKer3794tZfWdk/iv8j0s0RkaOo/Ceh3NBor87/tFVjkTwP4v1KpE5AWwf2/kPr2OBLd5z8EqWSPfS97vxPp8Wol"
        "G+0/1FJFCW/36T+ezFFA+VHmv9/vg2rsTua/HaOYAzhRlT+XCtYXNxTgv97+fHk8h+e/R7Nurbv79r8L82zneOLuP0Tp"
        "G3vmAOi/zH1EDz6/0z+h7hHQUE6rP58g55Dr9fC/mNadaKRG9r8L17+OG//HP28+LFIqVfI/11IOBCxj9L+cDh95Oazy"
        "P3jzIjZwB9e/xYc5S01noD9Z705RrXXEv7DnUxRkYO6/bj1T+6Vk8b/zo9Q4SZziP6RzrbV/+sI/8i/X5q3l9T+OdDWF"
        "BMj1P9h5GYcqS/c/tV6CcVyk+z8j4AXDEeLXv/RA9DhTXNI/iWp4XS2D4L9EzyhIsmb9PxUQOg2oi+w/xzP/grv9/r9w"
        "ESfVJyrsv/RNbr5pqvG/Evmr7Cqq5D+iiy7gnM8BQAATCRjQut4/VH3aqHw43T8DOf5U9hrlP9gLGkNTAd8/pOWnQ2OG"
        "zr/ocFI7hXitv/aRWQYoG+u/1Kxb1EUG1r9C/lhsCumqv0zEQ9BFruu/8Bq3WFTC9b+5BFVBhRbhvz/7C1m4fOm/eVMD"
        "lJ7p1r9rwUvwTi/xPyBFXEwyt7k//vOVFmS87T8Zl/phHqjzv6R9pBDsfso/+Yzfqtld/r/6h1/05Yf9P7U03vgpKrE/"
        "AgIMgS5u57/qXu7zy9D3P9/gwa3+4d2/T4CS8UQH6j9hYyeyvzTzv6k0E5WNLe4/Ue7W8QIT5z92m8lwYX2yv0w9MZ4F"
        "QOg/XxjvWzhx4D+n8BPbvQvxP2tjY/V65sU/6egbFHT45z+wfO9fLe7hP6l4D3iXq/G//tlLDgEF9D/7kxR8c732v33v"
        "86du5ATAiOJTdtx+0z90sIcKqHvGP4Ws7JgCJvE/TSWtwbBD/b9RDPfEy37Mv0zLhkyPy8o/1/TJ4oFg3T/6pdekm5Pk"
        "v1TS2ZP/09u/nEybvTj1+7+jAQiPCWLpv74d5N0sY+4/9FSy+ZB9+r/ZO0Jb7An4vxMBLTOUTOg/tgZjtd0J2L8GCNY/"
        "7ODPP8a8lrEtaO2/iX4sBjgazj96RDHJdrW6PwLJNxrJtdw/6fpaHofJ8r8xA0N6WubpPwVGuoKt8/Y/cjoxZ4kA2j8B"
        "c5WiAJr4P2ktaUbjfPA/oAkCVey+wD84T5VdN/DtP6HyBZYlEOQ/bNwl4l818D/xuCdP7qzTv09PgRktqN4/b3q6avyP"
        "wL9ZXCwBacLGP1qSlfMwytC/G1xIJghY7T9Rc48YEsAGQO4KFhneXvI/YWxXUk8s5j/wFkhZMU7ovw61u5p2IvG/Dsau"
        "WlU3y7/D5MKOcNDxv73vxx2Ufdk/JyzHVx/V3j88ly35mbPyv4SmwqpH1Ng/FJb3z9bN9r8ZUhg9UCzQv+4Qq2bCtem/"
        "V3nFNkFP7T9y32xBqL3xv5GxrweaINA/HQin453k5L9+ypOeDGT5P31EMAQcCsQ/bsxMpfq5479b3ZlGcwwCQAJxmg/f"
        "Zrc/V3R6/lWG2z9xDjdJJAfcv4FoF2cju+u/OzpHqq5l4D+isuGYQN3rP17oYMuDE+w/gx8cO5P45D+O49OHDELrv4Iq"
        "TDim8dG/Jj6R7nCGDcCLKfb8ZmLzvzRSZfsmIN0/M47AH/+02L97EaMRd0Tov1GnoAdsl8u/hroF79vW3L9f5a/V+mfb"
        "v5ybHLa7iPG/flA2cW7Buj/RKjHKzkjEP1aVGXhfX/g/NKx0ih9S+b+shmEkb0zgv+/SA3EWcPm/bNsdlQqO4r8boRuf"
        "X1veP5jQcGo0YOG/YGii2JQC+j9xo8czmTb9P4Folp7RXum/45pltjyD6D/gqbo9bmzkP2BBmzL0S/K/jIhuftGI5L+7"
        "fUcUYAXjv6z2C6MX5XW/4o/Gx57K0L+Toe4rivjwv0hRjOeZMNO/9q0xTb948D9DPv2s2ti8P2R2pOjbf/8/7FTbMDNS"
        "AcArPUSsuBUDQIDBp6WMKse/5yXSFhO+8D/I2Rq6ODL5P1yKFkZdn+S/d0xLtii57D/kNRf5YC7hvyimVhU3KOC/6YHp"
        "OeO/3j/7zkkIXTLkv75rq6ViLtS/AFZr1yMG1T+nkCIGae3wP91un0Ikfs8/9FOnqZRp6L9xZqcOjD3bP+mA9hIzLva/"
        "17PJyi0u+r/nL9P3Wc/+v6qQNXZ/K8A/fp1ei0xF279WvIQNVcXWP5jpI1RCkPo/KBPiYpgC9j8SFWRzxTD3v34qx5kU"
        "vKa/JJa6uhn7xb9T3MuQvwTgv14yoyT0DOA/4WYeBC1F5D8Ji+Xea3TdP1U3/dZrsNU/0Jwc3oRJ5z/c4mCXZFnyP9Ru"
        "Ta/o4cG/lbpeHb+1+z+Yw4walDngP0cyxnf60/Q/sBGw/REguD8wW0em1xXrP5ItNFQMQeg/jfiDun274j/0nzBCc2rF"
        "Pw5bFNoADPw/W44w2KgR3b+Ms66SCDTzP/pgEd+Qy+I/xCt70+43/D9VWhVVP4Hlv+yJ0JHbgQFANdwyd6QXzr9L79Jq"
        "rZfSPwmdDVoX9OS/RARrWDAW8782j71Z+XT1v2jNW7g349G/ov02iU9pxT8zj47mA/DOP3sx61gq/uu/J/Nt9xix9D/Q"
        "46245IvGPxoz1XK7O9k/zlApIQi6uT+E4Tl9D1n0P3udQ/YXwPG/IiJOUUt57L9isEEpM/TRPz7tPMlgJ/U/i2PJvg9o"
        "2D/c5pYGh7ffvzQT9sq67+c/zRFylMC+4b/AzhUeDPfwv98A0L4af7c/alQf5N+o5r/7EjXNHYnnPxb4N+LLPvM/1GRj"
        "eRlH9b9PVVybMRrhv1EGfjVMleo/1uRtyvDi8T8D8FxhBYXWv/eQKpDMyQHAVEF5U9pE/L8y/KEYADHxv7oX8BwHluU/"
        "oJlIas2P/r8h3+i3wsfiP8r5rII6xt8/zD8NvzrE5j9NVL2bdUvLPzjFXxN2eNS/Hraj5smxz79SjKJB+W/tPy4bxfhy"
        "s/q/jQFKF7Hb5b9WclnHZufAP6815mPKBtu/QfSLFnfw6j/kHdy0jF30v87B4EEVkNg/YVD645rR7L8dh1Xm/rTyP2SM"
        "2ONrh/o/tRlatQA06L9g265RMZnxv6f8BjG/NKM/0V44ub2X+j/md4mJA43Bv2Bexh445Li/SVyM3n+BtD/fILXEC07H"
        "v9U5r5UWSeS/TO7z6x6Z8D8BuAV/xZ3sP3KGhLZTxMo/hx+wakgC1j9WuMTYquq2Px8ZTIhV1se/qsomhTWJtL9JZ1t7"
        "DFXcv8T0kS+4+uM/htGDXbvY77/rYb9ZPePTv8zq58isku8/dDvTKS5V2b+rz/SvJ/HNP7Ram45mzda/gQusZEb41r9x"
        "QWPq7tvhPwEFjordFMS/lLAu38cc87/ZSi6GkWzcv65J0E5EneK/jbAaLavG6T9VbFhAR28GQBr9rw7CWs2/cc3nNNJn"
        "8r/wMO1A2hHWP3V8rUO3hdA/VpYOs2Uq7j9NT1CwGoDXvx3ZnQvTovO/5AsXHv2C3L+4g+rMGWz1v2zVNITMTO6/KdX7"
        "Whx4xz+SDiRGkTXMP42crDzwkvw/DMGo2WBO77/yiEoCiKzrPytNmrNU7/S/wTm2jUmo2b+/VB6CmunDP2ipogAP6fE/"
        "C4y2tfnn4b+8xU5Y/e62P/PE5mQg9PW/rKkXgey39L96WsqcSBv0P37nO8q1/8g/3ExMqEJ25T/7RpP3ZkTBv/64vqDp"
        "Oew/f4iISkX22b+9wC84vNLxPw1jMpr5x+m/BhHjOGuAvD8vDtqdCdHxP9excCTWKem/x8TwQ0FdsD8vL2J8Fkfjv/65"
        "vPMJy+i/laE8gEho2D+5Z5FGMGbjP1sEU/+H0uA/HuiSvK36+L/UoXgOxSLxP5+srzp3X8M/HV6259G2rz+D2PEjW53g"
        "P3PVflUXAPG/bLf05WsN8r8j69EuDhTwvyHibavzzOk/zlBSfB/937+05nFMDvPiP6cm/6amI/y/TiDSM/3C+D9FuvDR"
        "TLytPyjCaxRo2/s/XHJ9lQWrsz9W/VN8J5nUP4r/kpq/a9A/UDM42mZl7b+g2klSa0vPvy6SToYWVMu/c6JNbHnPAUCn"
        "nS/3UQ/hv2PUB3uvDtW/kC14ahvylD8ps4I5aajnPyTvZ4Ell/E/PKiR8yQ+lD8SOVrkqavwv5Su/7orq+a/8ndxY10j"
        "9T8nUlBQSFHCP/On7abDP86/N4H/MZiM6b88MXHFT2bCvyknIcKmive/xCFu+s4o778uSJXAcDbQPxw+9srXuALAvYHf"
        "Be73pb8++IhTMiTwP7D71iDRQ++/PGzqq5lf+j+xO1Bnii7KP13OTHzU9Ne/mSGWt1lF4T9uMbVxAdaMP5T17DOCjVG/"
        "scALoe0rzT8vPA/DiS6bv5S/bjxOG+y/C71xPtI61j/MnKbu2xvKv6ALwkSJ5fq/yPgbF+P81b8CTilKKrLbP7UHlaCm"
        "PvG/OiGS0MVG3T8U93u1fonRP67X0bpCWNI/qZwQq4o3+z/ok0KZWBnwPwZhJcs1pes/37a07hELBMDKegZo6Migv8pO"
        "INI9dfM/RtWhh4W92D9j0fEgvg/iPxZenXCtjfk/5WGzRBCE8r89IY4asILsv1/OeoGuSrU/IlCA4tR66r+eo3OUMRrJ"
        "v9UDworQeeq/KPlVGZIk2L8OxZSpj36+vzgbOzOcI9o/YscBg1CI7b+FhRsVPrrkv7b7pPE8MPY/yen8hDz9/L+t9tMD"
        "fCnqv55tRN1dp9y/XjNwdV7a1L/CaPsubqbev8srOdBnjPE/DHsd07Z78L/RU3R5eKfpP9Mybp/gptW/onfeqEt24r/g"
        "SmS8dFTxP+Y9XHd0+uE/o9NS1XwX3j9IuQmWU73tPyyND8Tnxd+/psYhJZq87L/aQMfA6Z7Qv62PYIAz7cg/SNYScXsd"
        "x78cKOK43YDzv2+dR4Tdz/Q/xuFbfVpM6L8inRAWLa75P/stjB7Z8Ps/8YZX+VPv+b95NDLWb++7vwKGrdui0sW/uw/i"
        "mfNHsD+cWil4jp3OP4ERgsr0jNq/uV0JF+Yj0j9COU1TzK7wPxJtIKC4UQFAigRZCK/P9T+qZ8swqsvvPxyeVeho/N0/"
        "6oWhj4dfB8Bls332euPuvxbAEe9m5eK/NlnqK7mMkL/XbAKE4qnUP3oYFSJlZ7s/dl46u3p/jL/Jw2BT/e6Lv9ZqwQiJ"
        "kvI/QE1fUL9v+z8SXISDdWvsvwgKurJnoOm/kVu/U+uSxj/irc5GD5bNP7uUI342LfQ/jC770UCHA8Avpo+uD1SAvzDQ"
        "OXIZ0OA/sNcgvkTl2j87FlhGJe/ov4b3T1d5yfG/GRx7j0FW7L9A9iiKUK3gP8bnrj26vOK/gtrViHhn3D/yx8JktYSo"
        "P1rQokFwyes/r04D5ebI6b/IRoZjCbLOv1+9oxIm/Po/iFtj3cES8L/yF3B1zyvVP73jQvdodt0/CLDQNWIc/D+gNnPS"
        "vi7zv1QjmGu7dMC/NJKpcOCB8L9x439dB+j8P6XlNCKV+vC/CyZHZHIY+j8hWCM3x/r1P2LgUmkYHsG/H2UBiH/Y0z+D"
        "z5m1Y9z5v7OJTxwqZPS/oKo8DY7v0L/3KdCKzxGxv2snUN0SitQ/K6IxU5QW9b/vewJwkfr4PzsNjDv9f+i/XO7LqeNS"
        "1L/cbI6SFTf6P6xtaOiMNv0/RTzzvl6y2D+hZPVxvYbiv+JWVePnRNU/wddfxGTQ8D8/afzVQPjkv5OZCaBqZ9A/UwMn"
        "J25x5L/ova17U8/lvwQmwm7xX+M/kPbx7gs96z+BIe8k4YXkvzc5Begp0rG/71pkYhy43j85RNUfl/L2P4VrKXW+Lf0/"
        "wOlbGJFM8z86lnvpowPlP5Nx1aq3F6s/r0Fy1iSI4j9TmPBI7k3SP0sfZF5SEOY/0C2sQCkoy7+V0fX+ZFgAQOxwtOxW"
        "NaA/ne8kljJaCUCHzG3wPpTFv51ZX+Tpg/c/6fC2o3wp6D8YbmLLOqfqP213fozG1rk/nm7R9xc1+795GS6pgSjgv3Jq"
        "St2Hl8E/mvafY+e97r9wCf+fPI3jP9H4bjAjQua/R9sidJu56j/0V3tnK0zbv+muVB4w1/C/devRuBxG7j9vAdL1fB/g"
        "vzXWNfezuO6/Fg1/+14r3L8mW+apGHzov/W3pkIPhwDAKDuzuyRWAMBU+YkoHpDwPyhzu9MwQ/W/onPCDlR7NT+Axr6f"
        "MgDmPxJ0UOXC1Oe/tnzbwQlV4z/HEwp5Wbf4v+7/zcRl4+I/l/zFxhxW7T/mC8uPYkvcv1xGDNVmE9u/at+xIRjV479o"
        "6jlcHHT6v4EcjqdzEQHAafJeXtka2b/jteptXC78PzqPjGPlbPA/uIbgiCg6y79bGIKJ4CTxP+w5JztMqOw/cJYYKGgb"
        "8b/JonlAswbwv/66xMT+RPo/Q7GpLk0Q8D/LNJpvrr3vvydZqNdZPdM/ofszlXvV1j8RByzvPvjhP3MumeSRuOE/tf76"
        "Q0HX1L8N53PNboX0PwFplqJoidC/DASxP0gFrz+P2JLiIoPhP1OOSSpRCO4/qiZ4XkgMA8DxhxhmU/zwv7X3ubpL7f8/"
        "U8B1bIYI3T8b0tdzhaTXv7KKAVg7Veu/QrojUCzd8r+d/lY2zkLgP/mShZJxE90/tC90Puj7qz8fCRgn+AXqP8PxHx9p"
        "2QDAJ1F8+Kenyr+VNmAiN4CKP6TYg9K1cto/O+KCbGkEzz/p5n8I6sXPP8V6Q59kiuG/tXbM02T05j9n5efG0LIGQLWI"
        "frgd6+S/dYFvozcUwr9pHjpFJcHkP1tznGRFg+A/4NKp9uyR3L9vZgqJG0bXv73iKs78Hvk/+mCjHq/o6z8J/E7YIO4A"
        "wFJRwcaOW9Q/MrYUAgSI7b9Q6m3Basx3Pw8IzIDujeq/z4Ke7gNi9r/pvkCU+2Dcvx2bBeTPAMw/eOG4o96F/r+NTXGY"
        "JVbYP0Q75cNv/s8/DyzedXXy77+uNMnGthX0P5BpV46T/uw/JegKVDBI4b/06ReX/Sr6P2WrynRVMOQ/JcUqTdk5xL+a"
        "Cxycsi68v22C8eCzs/O/ARR7GU9Z679v1gXv9OXgv3n7BSb3buk/BzrsOXUh5b8fcVaSW3J+P6LzfICfl9K/dzg5Id5O"
        "2b+czYOFVe71vwSkVw48rPc/dVfS+HEu/z91PqKtEDbmv1mQS0l+kvy/aPIi47vQ8L+flEvSljXwv8pJAN3mUcY/f22r"
        "nSXI6r+VPBz+j5T7P4LgIAjUyL6/VqF1thlM5z9yIV965GnXv4OnmPnLOvW/w4OFZuxLA8C9kahUpf/hv1nX4ceOO+g/"
        "65I4ESOy0j88Qim9iozCv/p401HxEdI/Z2ZzifeP3z98KWU3lwr8P5a25xxn2Oa/AcAbVLKa6b/z55QwEzrGP2eCAvGe"
        "K+W/qhGmoNGX8z827l/7dR78P5j8q1hwCuu/5WtZpRxX/T+aPHf9A7UBQK7tnQ0FG+0/5BLcAjq+0j9rU71mJRfzvyUe"
        "hS8k2vC/O5GJVuT09L/UKN3jxF3Dv0bdGvU0oeq//aDUMQfV9b8X7+fHgGvgvxUW6c9WfwLANtnOgPWx7z+5n0zUayPz"
        "v/Q6kuTAdq+/tcFCStOn1z9MOakkPl3bv3VGziv619I/j7wpiqCt8z9zubk/uEvoP82JlOfd9dO/QwxsW+kI4r/DaMjo"
        "EQ/Rv59Zo0c7qsS/yNbzpaDA5r+Aazvd4wfqv4UdlQZqjPK/u1+jzkdqrb9NoArbneEDQKm1HSf0M9o/pxvtqert978D"
        "fn1Tvjrtvx7yCWWvjO+/VVSouseS9L9u7hO8gafSP0yXt90Fnew/BixjQ2Ji5L+eiHCUePr6P8XQ4nxjCvs/nuTdS/Le"
        "17+sZ+rSN6vmvyjFM57wftE/RbwvVyCZ6D+COzJUsDO9P1kVg9i7HdE/ua6MMYPA5b+QtxC/Bq7+vwpl4raV0eA/HU+v"
        "tRRY1z8wd9e3sT/wv87TDgWbc/Q/4Z4m55ww3784HXCabr7pv5ehhqrm0vG/EdqxCb4C4L9aQUHmd136P4yyzkI+Pd+/"
        "QgwcQRpd7T856F9DYMbwP1AFuhsdCuG/ZzChTho+BsBKGil/eBP0v7gn5p2pzeI/NzfBcej36r90AV7POdfuP2cZgTkC"
        "v34/7pD3ZMcF+D+KelpZXsvpPwwDPjgULP6/GZi5CVuypj88TDI3Qz7lPwaQr20W1tu/S+5t5pDx9b8G+bzmNzvmv02i"
        "CqL71/E/WZ3mY9qH3L+4FpfDAQbzv2ZoWwlo6+g/Y7pGzMugA0Cm8W5fgpjYv22OaJNDB/I/JE4AaPg/w79r+/vtANnW"
        "v2YHwMZmufQ/mPoTU5LkA8C6cagoOV/EPzUS91+qj+W/dWBAq4b7+z/8u0hDNazkv4DWYEb/FQLAAOlPMWanwj+ZuwOq"
        "Ruavv1DPDMSuEtQ/peXghXAh+D+MI8sU8W20vzWVhtFm9vo/3Tspor27qL8ghNENCYjcv6AaGh0ZCtm/PrFZyLSK4780"
        "1sBsD8DlP0kbAI4yyve/ptG/0wSf8D9mTzSNfNnxP9lG9+3m7fq/SZWnlvGL5j8IEm6R5t7Svza11ZpGwO8/sIM9bunx"
        "3z/qoZmoIY7Ev3BO9BbuzvC/i137Xtf/1r8n7AVfSRvVP3lrzTUg/OU/xenGnC847L81WmM+IebYv2Y5MQ4xxJS/IUaV"
        "onawdD9lUoOui33hPzUrONCLneO/PgB9LifL4T/YdNgEmSObP228EgiUM78/uIfGXuEA6b9xPkPEi2u6v+NWWc6ZVWk/"
        "aJ9HZe1a9z+5SbyyEzrmv4W3E8I3qfw/7ne/RrnWtb/tZeyR8ffmv89I+b75WvQ/+RVs4PoD4784KsYMm1MAQOw3PgRk"
        "Hfm/WMYAXufJ7b/25oHnoirfPyBs21lrbfC/gUHGdxszwb/QXfqu+SO6P223oedtCuM/GOCuocBT0z+lE8a8Jz7JP89I"
        "g2bFJek/ZYhEd3wx0j91Tqte2jfyP0B3tVEbYds/JrJtciP0kr/NtiqL/4f9P/nd591sr/S//e7iTFEDzj+OcUibbM/y"
        "P2CgS6lkz/i/SaqNIzBe7j/tc2H5IqvhP/r14r28xfU/hw4OSJk98z+oIvD1Ypa6P21hkce/YdU/HkLeBQd/tT9wB7Fc"
        "6bwBwAKMA3ARvPy/UMj2SPr18D8Qmb8Qq3flvx25x5rUUM2/4q1KrvYC8L87NfbLfozcP4IEzSvJ0NU/NqJnE0US+r/i"
        "zO8xr4Tdv2vY+UMkUgFAUADzZ+gI4T8fNa4cRjoAwNsRMw0/VADAjHpuzWzqtz8ll7B9Mh3QP/uaSLdjAvE/6UF5SKh4"
        "yD+cxEhD6AkGwOlnTP5YiPU/GkH563+i4D8Zi0tJWK3cP8tyLu3tHuc/lJVcIBe537/7DIKlO/gBQAI2nRQXtgDAdiXM"
        "/Tfx8j9Lc5UvOmfAPw10IJD2wcU/hPxWkspG7j/zW7RoLHHhv6CeMA8vstE//tmlghH25T+IbPX0EV75Pw=="
    ),
    ('erf_inv', 'float64'): (
        "Sel0j090F0CB8FPRVjgXQEpiA9H7FBdAOM3t+MX7FkDiSXdqJegWQIGKhuQP2BZAsx5c+W3KFkBlIkF0mL4WQIU4dEEj"
        "tBZAT/0sc8SqFkBJr584R6IWQHX7DISEmhZAdzsLo16TFkBv2vt4vowWQEHKU66RhhZA6KnTdcmAFkCL3x6xWXsWQOpB"
        "+1M4dhZAbVfm8VxxFkBB+PlowGwWQHb6jKFcaBZADWLHXCxkFkA9Hi4OK2AWQCcaWr1UXBZAi/Ta7aVYFkCXFNKLG1UW"
        "QEnVNNyyURZALwPqb2lOFkAU6igZPUsWQOKjpOIrSBZAez8pCDRFFkBuaGTwU0IWQIZaoieKPxZA/nFTW9U8FkBwgzdW"
        "NDoWQKoCE/2lNxZAKVvXSyk1FkAVFCxTvTIWQP2wSTZhMBZAmeoZKRQuFkB7/pJu1SsWQMWORVekKRZA9vEVQIAnFkDj"
        "9xqRaCUWQHoZnbxcIxZAG88xPlwhFkBvbe+ZZh8WQFNxtlt7HRZASZWNFpobFkC7ag5kwhkWQLSB4OPzFxZA2G1BOy4W"
        "FkD/MJgUcRQWQOXEEh+8EhZAUKdMDg8RFkDTb/2ZaQ8WQB2Vrn3LDRZAVqJ3eDQMFkDSM8BMpAoWQEYmB8AaCRZAoitr"
        "D4kH6j8ujsOnSVvxP93kyjoME/U/pgGsl0le+D+MglC0/1n7P3uUgttgGP4/qE5+gdhSAECKZtghU4UBQNYSe5PYpgJA"
        "AFBdvN25A0AF7IfpTsAEQOnwJb61uwVAAz6mpFKtBkB6kb1tLpYHQNPBStsmdwhA0do5xPdQCUDbdvDgQSQKQI+pU/GP"
        "8QpAcJfvslq5C0AwwXb4C3wMQJpAZhsBOg1A321H8IzzDUCnrOBa+agOQMux5ZeIWg9A/78dJjsEEEBfe/IyfFkQQNuN"
        "IOwfrRBAUl3anDz/EEAWA/Kk5k8RQHDFx7EwnxFA6WgV7yvtEUDxiOsw6DkSQEpHABh0hRJADlk4Md3PEkBxrCgRMBkT"
        "QOPlLGx4YRNAjcaTK8GoE0DbrkyAFO8TQLi6b/N7NBRA1ojrdAB5FEDx75doqrwUQI0s47GB/xRAcghHvo1BFUAfz6yO"
        "1YIVQJhP4b9fwxVA8n81kjIDFkBuaGTwU0IWQOip03XJgBZAZSJBdJi+FkA4ze34xfsWQPxa6dvmEuQ/C7ZCEbzS7T/8"
        "4f84CvbyP1rEs700fPY/vQ8Kp7Gj+T8LxNx5J4T8PwUvpgrsLP8/1kmNS0rUAECedlP1Y/8BQKnvbjKhGgNARWXThjgo"
        "BEAU7xeM6SkFQAty8vEcIQZA05JZQvoOB0CIW9Yid/QHQKieuExi0ghA0amtnWupCUDUXVUjKnoKQFMnSLcgRQtAUcyZ"
        "kMEKDEBJ47EQccsMQITNt/yHhw1AsuvnRlU/DkBYqpWBH/MOQJGW5A4mow9AkTfSDdEnEECJNOC3Y3wQQDI0r45izxBA"
        "MfL8CeMgEUBJEuLO+HARQGRQLuW1vxFA9uY55SoNEkAFsmcfZ1kSQGs8X754pBJADsLU5GzuEkAOVo7HTzcTQCtpNsQs"
        "fxNAGRxzdQ7GE0Drw6XE/gsUQJLGpfkGURRAgbG8yC+VFEBFih5fgdgUQMZeEG4DGxVAU6rnNL1cFUCo8waKtZ0VQFva"
        "9uLy3RVAU3G2W3sdFkAnGlq9VFwWQHX7DISEmhZAgYqG5A/YFkAAAAAAAADwfwjAJLsfht4/AAAAAAAAAABJ6XSPT3QX"
        "wIHwU9FWOBfASmID0fsUF8A4ze34xfsWwOJJd2ol6BbAgYqG5A/YFsCzHlz5bcoWwGUiQXSYvhbAhTh0QSO0FsBP/Sxz"
        "xKoWwEmvnzhHohbAdfsMhISaFsB3OwujXpMWwG/a+3i+jBbAQcpTrpGGFsDoqdN1yYAWwIvfHrFZexbA6kH7Uzh2FsBt"
        "V+bxXHEWwEH4+WjAbBbAdvqMoVxoFsANYsdcLGQWwD0eLg4rYBbAJxpavVRcFsCL9NrtpVgWwJcU0osbVRbASdU03LJR"
        "FsAvA+pvaU4WwBTqKBk9SxbA4qOk4itIFsB7PykINEUWwG5oZPBTQhbAhlqiJ4o/FsD+cVNb1TwWwHCDN1Y0OhbAqgIT"
        "/aU3FsApW9dLKTUWwBUULFO9MhbA/bBJNmEwFsCZ6hkpFC4WwHv+km7VKxbAxY5FV6QpFsD28RVAgCcWwOP3GpFoJRbA"
        "ehmdvFwjFsAbzzE+XCEWwG9t75lmHxbAU3G2W3sdFsBJlY0WmhsWwLtqDmTCGRbAtIHg4/MXFsDYbUE7LhYWwP8wmBRx"
        "FBbA5cQSH7wSFsBQp0wODxEWwNNv/ZlpDxbAHZWufcsNFsBWond4NAwWwNIzwEykChbARiYHwBoJFsCiK2sPiQfqvy6O"
        "w6dJW/G/3eTKOgwT9b+mAayXSV74v4yCULT/Wfu/e5SC22AY/r+oTn6B2FIAwIpm2CFThQHA1hJ7k9imAsAAUF283bkD"
        "wAXsh+lOwATA6fAlvrW7BcADPqakUq0GwHqRvW0ulgfA08FK2yZ3CMDR2jnE91AJwNt28OBBJArAj6lT8Y/xCsBwl++y"
        "WrkLwDDBdvgLfAzAmkBmGwE6DcDfbUfwjPMNwKes4Fr5qA7Ay7Hll4haD8D/vx0mOwQQwF978jJ8WRDA240g7B+tEMBS"
        "XdqcPP8QwBYD8qTmTxHAcMXHsTCfEcDpaBXvK+0RwPGI6zDoORLASkcAGHSFEsAOWTgx3c8SwHGsKBEwGRPA4+UsbHhh"
        "E8CNxpMrwagTwNuuTIAU7xPAuLpv83s0FMDWiOt0AHkUwPHvl2iqvBTAjSzjsYH/FMByCEe+jUEVwB/PrI7VghXAmE/h"
        "v1/DFcDyfzWSMgMWwG5oZPBTQhbA6KnTdcmAFsBlIkF0mL4WwDjN7fjF+xbA/Frp2+YS5L8LtkIRvNLtv/zh/zgK9vK/"
        "WsSzvTR89r+9DwqnsaP5vwvE3HknhPy/BS+mCuws/7/WSY1LStQAwJ52U/Vj/wHAqe9uMqEaA8BFZdOGOCgEwBTvF4zp"
        "KQXAC3Ly8RwhBsDTkllC+g4HwIhb1iJ39AfAqJ64TGLSCMDRqa2da6kJwNRdVSMqegrAUydItyBFC8BRzJmQwQoMwEnj"
        "sRBxywzAhM23/IeHDcCy6+dGVT8OwFiqlYEf8w7AkZbkDiajD8CRN9IN0ScQwIk04LdjfBDAMjSvjmLPEMAx8vwJ4yAR"
        "wEkS4s74cBHAZFAu5bW/EcD25jnlKg0SwAWyZx9nWRLAazxfvnikEsAOwtTkbO4SwA5WjsdPNxPAK2k2xCx/E8AZHHN1"
        "DsYTwOvDpcT+CxTAksal+QZRFMCBsbzIL5UUwEWKHl+B2BTAxl4QbgMbFcBTquc0vVwVwKjzBoq1nRXAW9r24vLdFcBT"
        "cbZbex0WwCcaWr1UXBbAdfsMhISaFsCBiobkD9gWwAAAAAAAAPD/CMAkux+G3r8AAAAAAAAAgA=="
    ),
    ('truncated_normal', 'float64'): (
        "fhuPgPaa8T+/G0oJIgS+v/k9URH7rea/Dr6sKE1c6r8VEs2Pp1Dev3h2cBJZvsc/LkHGMy5a8T86kVtqYeXSP/MxDZYm"
        "4fo/VkPjSpvb6T8thkXtKoLBv30QKUu+bro/LdGZ8z366T/c1NReIfLVvz2K+fRwZei/q7k5SOPp878wabKJqevwP68z"
        "rxjiVec/vW2x9VZ/z79/Tq96idT0vybiOAu3aOW//tT6TB0X9L/lCm0/jXLxv43RTfjcT94/zagO/Wuk8z+5t2yr5Un7"
        "v6YVcx/IYvC/ajWZPGaVzD+I/l2ufynmP+G9uPh4+de/+uJiJQkd7T8o6H+GzOjNv8yZPRdT6Oa/IH0/L4/O7z/2zDti"
        "wAnsv9hbrz0dEus/LBP3bbL1BkBn+3JWbH7Gv+teFQY/lMW/PIx6921S0r8vUv+/s6MBwGXPdkd9Uvo/9Sje1bIZ7L8y"
        "G+rOtRnhv6WmJHQ/o/M/cXBrnj/0tL9msTIHjsXqv+53q/vHVPw/I4IoONfkyb9jnjmFVgvhPzOeVlkEHOg/926/z0PL"
        "2D/h6OLFPjLCvwANHKCLVcE/hj/MDGGu6r+NlRtP0oLsv2/LYQq/lMi/DgoPsAUj7b8cxiu1crLdP3AY+cDsAgDA0e86"
        "sMD58L9M5fDD3Rztv+m5Ks5uf/u/WfrVO5k94z/u0t0yfA7wP8cAbF7QDfs/zjYHDPjK5j8tEwva1jfHv/TLwm6D8fC/"
        "ssD24IcSBMDoFazaA1rzvychnL3mYfA/oieye2r69j9oEzZw2qn3PxWrW68v4ds//Zsimh2e0T+5DQVbGDzxPz3+Hyye"
        "iOC/17gMiIy98j95gxgJCM7iP2EfjBwt3ta/lKDMbqrs4b+8WqTfBva8v2eFQoes2sU/WKCPs2lF8z+TZ0EEn7X/v4nq"
        "4VIO0+S/VtMRUPVa4z8h4IsVoFLqP5tYmJ5iAe+/3QfVA4g0/78J3B2GaMv5P8y76N8tfOU/08TWOZWe4L+YsmKbAYPp"
        "v71JIVI4m+M/k5EjJuq8+T9qwigvY/ICQHz0+140IuE/SriVpffVAcAFCFLfpiTtv8PCnKRapuC/XRRzHrePwr9gS3Ne"
        "rDfiv+lK4LvTbPU/2ibZq86R+b8kM/Fis1TGPzVb5oqDWuK/7ThwK5ey2T8kyz+ojvbZP7bZ12EtgdW/XxB3cp4b579v"
        "xpxbMujgP4s1Y4AkGeU/GQfTD8zI7T+V6Z/PHGQDwHN+dJCi6r4/HgVQuifW67+sOl/Aqn7JP2aWgW5fEe4/X6zYRpHC"
        "zz8zgns9QAD1P7izGhVslL4/rISHdaC1+z+K+EtxsUipP4Dr15WphfW/qKThD9FW1z+MCd1MWbjxvxI5tYnuDte/+fik"
        "THJ/pL9/bzTxDvjgP1/D1XUUOt+/ZyRbabL27b9FbJjUDr/fP/6ZgKgpNeM/OZBY6WxD5z8ogkrMTsX9P3kNO9tlYPS/"
        "UizIbY3l8r9O6EspVtHpv98FXPfNAde/jytkzXPq6L+1xIY15BrmP7t+2GeUd8w/FXK/BljE0r/9pdZugz7gPxSPQHuY"
        "tuO/xvpOx2gi4b+qqJ9/umDWP3sfFPkSD/O/sICorTZW7b9Y3nv5AYfmvyhqIB+Oguu/QXozCdpJ1T9YD+9Uu6jqP79i"
        "pKwp+vS/dxswesQ51L+l3j9KE9bQP/PF2DzgcOu/tLA8pmFuvD+I2M0MeWDovxuH+f//tOC/Hd5wRIg+wD/UIxn8w67j"
        "PxMHyjDl0fo/SsyLkJ2M3L8zwwSW5fnxP6K3cnPc8OC/SSOusfju/z8LWbQyvB38PyauUWpyVsY/TpiREvaq478shMy1"
        "XdDQv3GLyV4lPt+/x2iadIFVAUDiPrhoImHqP3oxaE3Qm+Y/+BZB4gpt6r/IDul5c+HxPyGlsrwMUdg/B64R6uph2D82"
        "F6+rkUzQv8pjHZ83n/m/QrzOzmce3j8VDxIOIezfv1lt2tOqx9U/ZyZZ2IDa4L/yLcyxzXUAwJ9PomWHWuC/UUZCL/aK"
        "879x7OXIuYHvvz8o2IGReAJAR6fweK2D9L+COuIhWAkAwMkQzfFG7e+/04RVQ/ALuz8g4tHVMyLzPwcE0u14e+M/aEYV"
        "HoL6fz+4PdRYV1ikvw=="
    ),
    ('normal', 'float16'): (
        "ODdVPDG+ILncQBY38jgHPLC5g7k4OpuynUA4O6U8ay8cNoU9Fra9pho/G7jfvNQ5lD8bNRgp6LjKNuw+szQgPLM2OzUm"
        "tBW4TDoYOLwv+blBtqS2OznNOSc/rrYRNYskmLYhtRY3B7ncPHI2rjyjOIC6S74PwtG+MTs9vGOcUzLfNmw8xDFqt5S+"
        "1bwzvdg6ZLors2831Dl8MpQi0aozt2q7qbqUvjE6kj2HNiOt1riRu1kqhzPstFo8tTjGvVk9h7p8MkQaVTS4vRGwkDWH"
        "OZA1LTeesOY4OzVmNRY34LsBtTs1FjRyu4Ksb71KvDYxJ7cPuCu88bd5PO+wV7Z+NO+/77+7vOC7rDsxvmo+gLUjOJS6"
        "I63oOcoukzbcQNy/nUAiMRY0ALkWtSy1OLioNwc88S4btPu4OqR1t1M9xK1muHi2M7ePuKkqmzVXPtW6xzj0Ofe07TvG"
        "sNC4CCq4uMi76rWpuQrAxzkEuDs1NjFJtwAusz+NruW5lizjugG1FT58QLa5Ojy+LMouc63XuQ=="
    ),
}


def _jax(what, dtype):
    dtype = np.dtype(dtype)
    data = base64.b64decode("".join(VECTORS[what, dtype.name]))
    return np.frombuffer(data, dtype.newbyteorder("<")).astype(dtype)


def tail_inputs(dtype):
    """Exactly representable inputs near +-1 (each piece of the polynomials, and u -> 1)."""
    dtype = np.dtype(dtype)
    nmant = np.finfo(dtype).nmant
    near_one = 1.0 - np.arange(1, 61) * 2.0 ** -(nmant + 1)
    e = 2.0 ** -np.arange(2, nmant)
    t = np.concatenate([near_one, 1.0 - e, 1.0 - 1.5 * e, [1.0, 0.5, 0.0]]).astype(dtype)
    return np.concatenate([t, -t])


def _assert_bits_equal(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    uint = f"u{got.dtype.itemsize}"
    np.testing.assert_array_equal(got.view(uint), expected.view(uint))


def _ulps(a, b):
    """|a - b| in units in the last place (signed magnitudes of the float64 bit patterns)."""
    ia, ib = (np.asarray(v, np.float64).view(np.int64) for v in (a, b))
    ia, ib = (np.where(i < 0, -(i & 0x7FFFFFFFFFFFFFFF), i) for i in (ia, ib))
    return np.abs(ia - ib)


def _normal_draws(dtype):
    return np.concatenate([fr.normal(fr.PRNGKey(s), shape, dtype).ravel()
                           for s, shape in NORMAL_CASES])


# -- JAX's numbers -------------------------------------------------------------------------
def test_normal_float32_is_jaxs_bit_for_bit():
    _assert_bits_equal(_normal_draws(np.float32), _jax("normal", np.float32))


def test_normal_float16_is_jaxs_bit_for_bit():
    # XLA computes float16 erf_inv in float32; the samples are float16 throughout otherwise.
    _assert_bits_equal(fr.normal(fr.PRNGKey(5), (200,), np.float16), _jax("normal", np.float16))


def test_normal_float64_is_within_3_ulp_of_jaxs():
    # float64 rounds each multiply and add where XLA's CPU fuses them (and takes NumPy's log):
    # over these 2,000 draws 120 differ, by at most 3 ulp (over 10^6 draws: 3 ulp, ~7%).
    got, expected = _normal_draws(np.float64), _jax("normal", np.float64)
    assert got.dtype == np.float64
    ulps = _ulps(got, expected)
    assert ulps.max() <= 3, ulps.max()
    assert np.mean(ulps == 0) > 0.9, np.mean(ulps == 0)


def test_erf_inv_tails_match_jax():
    # float32: every value bit for bit, +-inf at +-1 included.
    _assert_bits_equal(erf_inv(tail_inputs(np.float32)), _jax("erf_inv", np.float32))
    # float64: within 2 ulp over the tails (the w < 16 and w >= 16 pieces), inf at +-1 exactly.
    got, expected = erf_inv(tail_inputs(np.float64)), _jax("erf_inv", np.float64)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    finite = np.isfinite(expected)
    assert finite.sum() == expected.size - 2
    assert _ulps(got[finite], expected[finite]).max() <= 2


def test_truncated_normal_moves_with_normal():
    # Its erf_inv is the same; at these bounds SciPy's erf(+-3 / sqrt(2)) equals XLA's in both
    # dtypes (elsewhere the bounds' erf can differ in the last bit and move every sample more).
    k = fr.PRNGKey(3)
    _assert_bits_equal(fr.truncated_normal(k, -3.0, 3.0, (200,), np.float32),
                       _jax("truncated_normal", np.float32))
    got = fr.truncated_normal(k, -3.0, 3.0, (200,), np.float64)
    assert _ulps(got, _jax("truncated_normal", np.float64)).max() <= 3


def test_multivariate_normal_is_built_on_the_same_normal():
    # float32 with an identity covariance: the Cholesky factor is exact, so JAX's normal numbers.
    k = fr.PRNGKey(0)
    x = fr.multivariate_normal(k, np.zeros(500, np.float32), np.eye(500, dtype=np.float32),
                               dtype=np.float32)
    _assert_bits_equal(x, _jax("normal", np.float32)[:500])


# -- the function itself -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_inv_is_close_to_the_exact_inverse(dtype):
    # An independent oracle (SciPy's erfinv, near-exact) bounds XLA's approximation error.
    u = np.linspace(-1, 1, 20_001)[1:-1].astype(dtype)
    rtol = {np.float32: 6e-6, np.float64: 2e-14}[dtype]
    np.testing.assert_allclose(erf_inv(u), scipy.special.erfinv(u.astype(np.float64)), rtol=rtol)
    got = erf_inv(np.array([-1.0, 1.0, 0.0, -0.0], dtype))
    np.testing.assert_array_equal(got, [-np.inf, np.inf, 0.0, 0.0])
    assert np.signbit(got[3]) and got.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_inv_is_the_same_under_jit_and_vmap(dtype):
    u = fr.uniform(fr.key(9), (3, 30_000), dtype, np.nextafter(dtype(-1), dtype(0)), 1.0)
    eager = erf_inv(u)
    _assert_bits_equal(fg.jit(erf_inv, backend="numpy")(u), eager)
    _assert_bits_equal(fg.vmap(erf_inv)(u), eager)


def test_erf_inv_derivative_is_the_exact_one():
    # d/du erfinv(u) = sqrt(pi) / 2 * exp(erfinv(u)^2), here with SciPy's erfinv.
    u = np.array([-0.999, -0.5, 0.0, 0.3, 0.9, 0.9999])
    slope = np.sqrt(np.pi) / 2 * np.exp(scipy.special.erfinv(u) ** 2)
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(erf_inv(v)))(u), slope, rtol=1e-13)
    np.testing.assert_allclose(fg.vmap(fg.grad(erf_inv))(u), slope, rtol=1e-13)
    # second derivative: slope * 2 erfinv(u) * slope
    second = fg.vmap(fg.grad(fg.grad(erf_inv)))(u)
    np.testing.assert_allclose(second, 2 * scipy.special.erfinv(u) * slope ** 2, rtol=1e-12)
