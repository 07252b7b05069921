"""shopbook.viz"""
