"""shopbook.features"""
