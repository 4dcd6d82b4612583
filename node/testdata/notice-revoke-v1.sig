y=oí\wk@kHºé.ÿ{Ñ«âkGJ×Â8!%âñ3€sWNKzá±Gi ÑÐ(ÿm5E–1aî¶
